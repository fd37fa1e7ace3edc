package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// onInboundAction applies a contact's reaction, edit or deletion to the
// stored message it names and appends its event in the same transaction.
// An action on a message wagate does not have (sent before the instance
// was linked, or from the phone) has nothing to update and is dropped;
// an edit or deletion of a message the contact did not write is ignored,
// as a phone ignores it.
func (s *Service) onInboundAction(ctx context.Context, ev ports.WAEvent) error {
	in, act := ev.Message, ev.Message.Action
	target, err := s.d.Stores.Messages.FindMessageByWAID(ctx, ev.Subscription, ev.Instance, ports.CleanText(act.Target.ID))
	if ports.IsCode(err, ports.ENotFound) {
		s.d.Log.Debug("action on an unknown message dropped", "instance", string(ev.Instance))
		return nil
	}
	if err != nil {
		return fmt.Errorf("find message %s: %w", act.Target.ID, err)
	}
	from := ports.CleanText(in.From)
	at := in.Timestamp
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	authored := target.Direction == ports.DirectionInbound && target.From == from
	switch {
	case act.Revoked && authored:
		_, err = s.updateWithEvent(ctx, ev.Subscription, target.ID, func(m *ports.Message) error {
			m.DeletedAt, m.DeletedBy, m.UpdatedAt = &at, from, s.d.Clock.Now()
			return nil
		}, ports.EventMessageDeleted, deletedData)
	case act.Edited && authored:
		text := truncate(act.Text, MaxTextLen)
		_, err = s.updateWithEvent(ctx, ev.Subscription, target.ID, func(m *ports.Message) error {
			applyEdit(m, text, m.Type != ports.MessageText, at)
			m.UpdatedAt = s.d.Clock.Now()
			return nil
		}, ports.EventMessageEdited, editedData)
	case !act.Revoked && !act.Edited:
		emoji := truncate(act.Emoji, maxEmojiRunes)
		_, err = s.updateWithEvent(ctx, ev.Subscription, target.ID, func(m *ports.Message) error {
			m.Reactions = setReaction(m.Reactions, from, emoji, at)
			m.UpdatedAt = s.d.Clock.Now()
			return nil
		}, ports.EventMessageReaction, func(m ports.Message) any {
			return ports.MessageReactionData{MessageID: m.ID, From: from, Emoji: emoji}
		})
	default:
		s.d.Log.Debug("edit or deletion of another's message ignored", "instance", string(ev.Instance))
	}
	if err != nil {
		return fmt.Errorf("apply action to %s: %w", target.ID, err)
	}
	return nil
}

// inboundMentions keeps the well-formed mentioned JIDs, at most
// maxMentions.
func inboundMentions(jids []string) []string {
	var out []string
	for _, j := range jids {
		if len(out) == maxMentions {
			break
		}
		if c := ports.CleanText(j); c != "" && len(c) <= 128 {
			out = append(out, c)
		}
	}
	return out
}
