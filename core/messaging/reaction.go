package messaging

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// maxEmojiRunes bounds a reaction: one emoji, which may be a sequence
// (flags, skin tones, families joined by ZWJ).
const maxEmojiRunes = 16

// React sets the instance's reaction to a message it sent or received;
// "" removes it. The stored message gets the reaction and a
// message.reaction event is appended. EInvalid for something that is not
// an emoji; ENotFound for another instance's or tenant's message;
// EConflict when the message is not on WhatsApp (not sent, deleted).
func (s *Service) React(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID, emoji string) (ports.Message, error) {
	if fe := checkEmoji(emoji); fe != nil {
		return ports.Message{}, ports.InvalidFields(*fe)
	}
	m, i, err := s.actionTarget(ctx, p, inst, id)
	if err != nil {
		return ports.Message{}, err
	}
	if err := onWhatsApp(m); err != nil {
		return ports.Message{}, err
	}
	wa, err := s.actions()
	if err != nil {
		return ports.Message{}, err
	}
	if err := wa.React(ctx, inst, waKey(m), emoji); err != nil {
		return ports.Message{}, fmt.Errorf("react to %s: %w", id, err)
	}
	at := s.d.Clock.Now()
	return s.updateWithEvent(ctx, p.SubscriptionID, id, func(m *ports.Message) error {
		m.Reactions = setReaction(m.Reactions, i.JID, emoji, at)
		m.UpdatedAt = at
		return nil
	}, ports.EventMessageReaction, func(m ports.Message) any {
		return ports.MessageReactionData{MessageID: m.ID, From: i.JID, Emoji: emoji}
	})
}

// setReaction gives from at most one reaction: emoji replaces its earlier
// one, "" removes it.
func setReaction(rs []ports.Reaction, from, emoji string, at time.Time) []ports.Reaction {
	rs = slices.DeleteFunc(slices.Clone(rs), func(r ports.Reaction) bool { return r.From == from })
	if emoji != "" {
		rs = append(rs, ports.Reaction{From: from, Emoji: emoji, At: at})
	}
	return rs
}

// checkEmoji accepts "" and one short run of symbols: no letters, digits,
// spaces or control characters (a word is not a reaction).
func checkEmoji(e string) *ports.FieldError {
	if e == "" {
		return nil
	}
	bad := &ports.FieldError{Field: "emoji", Message: "must be one emoji, or empty to remove the reaction"}
	if !utf8.ValidString(e) || utf8.RuneCountInString(e) > maxEmojiRunes {
		return bad
	}
	if strings.IndexFunc(e, func(r rune) bool {
		return r < 0x80 || unicode.IsLetter(r) || unicode.IsSpace(r) || unicode.IsControl(r)
	}) >= 0 {
		// ASCII is allowed only inside keycap sequences (#️⃣, *️⃣, 1️⃣).
		if !isKeycap(e) {
			return bad
		}
	}
	return nil
}

// isKeycap reports whether e is a keycap emoji: [0-9#*] FE0F? 20E3.
func isKeycap(e string) bool {
	r := []rune(e)
	if len(r) < 2 || !strings.ContainsRune("0123456789#*", r[0]) || r[len(r)-1] != 0x20E3 {
		return false
	}
	return len(r) == 2 || len(r) == 3 && r[1] == 0xFE0F
}
