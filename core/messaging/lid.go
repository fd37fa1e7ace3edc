package messaging

import (
	"context"
	"strings"

	"github.com/wagate/wagate/ports"
)

// sameChat reports whether a receipt names the chat of message m. WhatsApp
// ids are only unique per sender and chat, and a chat may be named by its
// phone number or by its LID (SPEC §6a): m was sent to one form, the
// receipt may come in the other, so any known form on either side counts.
// A receipt without a chat, or naming it by a LID whose phone number is
// not known yet, matches by id alone.
func sameChat(m ports.Message, r *ports.WAReceiptEvent) bool {
	if r.Chat == "" && r.ChatLID == "" {
		return true
	}
	if r.ChatLID != "" && r.Chat == r.ChatLID {
		return true // a LID not mapped yet: the id alone must do
	}
	for _, a := range []string{m.Chat, m.ChatLID} {
		for _, b := range []string{r.Chat, r.ChatLID} {
			if a != "" && a == b {
				return true
			}
		}
	}
	return false
}

// phoneForLID is the phone-number JID behind lid when the adapter knows
// it, else lid itself: a send is not refused or delayed for a lookup.
func (s *Service) phoneForLID(ctx context.Context, lid string) string {
	if s.d.LIDs == nil {
		return lid
	}
	pn, err := s.d.LIDs.PhoneForLID(ctx, lid)
	if err != nil {
		s.d.Log.Warn("look up the phone number of a LID", "err", err)
		return lid
	}
	if pn == "" {
		return lid
	}
	return pn
}

// otherForm is the LID of a phone-number chat, or the phone number of a
// LID chat, when the adapter knows it; "" otherwise (a group, a lookup
// that failed: the list then matches the form asked for alone).
func (s *Service) otherForm(ctx context.Context, chat string) string {
	if s.d.LIDs == nil || chat == "" {
		return ""
	}
	var (
		alt string
		err error
	)
	switch {
	case strings.HasSuffix(chat, "@"+lidServer):
		alt, err = s.d.LIDs.PhoneForLID(ctx, chat)
	case strings.HasSuffix(chat, "@"+userServer):
		alt, err = s.d.LIDs.LIDForPhone(ctx, chat)
	}
	if err != nil {
		s.d.Log.Warn("look up the other form of a chat", "err", err)
		return ""
	}
	return alt
}
