package messaging

import "github.com/wagate/wagate/ports"

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
