package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// readBatch bounds the earlier messages of the chat marked read with one:
// WhatsApp takes a list, and a phone marks the chat read up to the newest
// anyway.
const readBatch = 50

// MarkRead marks an inbound message, and the chat's earlier inbound ones
// not yet marked, read on WhatsApp (the contact sees blue ticks) and
// stores their readAt. EInvalid for a message the instance sent;
// ENotFound for another instance's or tenant's.
func (s *Service) MarkRead(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
	m, _, err := s.actionTarget(ctx, p, inst, id)
	if err != nil {
		return ports.Message{}, err
	}
	if m.Direction != ports.DirectionInbound {
		return ports.Message{}, ports.InvalidFields(ports.FieldError{Field: "id", Message: "only received messages can be marked read"})
	}
	unread, err := s.unreadUpTo(ctx, m)
	if err != nil {
		return ports.Message{}, err
	}
	wa, err := s.actions()
	if err != nil {
		return ports.Message{}, err
	}
	now := s.d.Clock.Now()
	// One receipt per sender: in a group, each names its author.
	for _, group := range bySender(unread) {
		if err := wa.MarkRead(ctx, inst, group, now); err != nil {
			return ports.Message{}, fmt.Errorf("mark %s read: %w", id, err)
		}
	}
	for _, u := range unread {
		if _, err := s.d.Stores.Messages.UpdateMessage(ctx, p.SubscriptionID, u.ID, markRead(now)); err != nil {
			return ports.Message{}, fmt.Errorf("store read of %s: %w", u.ID, err)
		}
	}
	return s.d.Stores.Messages.GetMessage(ctx, p.SubscriptionID, id)
}

// unreadUpTo returns m and the inbound messages of its chat received
// before it and not marked read, newest first, at most readBatch.
func (s *Service) unreadUpTo(ctx context.Context, m ports.Message) ([]ports.Message, error) {
	page, err := s.d.Stores.Messages.ListMessages(ctx, m.SubscriptionID, ports.MessageFilter{
		InstanceID: m.InstanceID, Direction: ports.DirectionInbound, Chat: m.Chat,
	}, ports.PageRequest{Limit: readBatch})
	if err != nil {
		return nil, fmt.Errorf("list the chat's messages: %w", err)
	}
	out := []ports.Message{m}
	for _, o := range page.Items {
		if o.ID != m.ID && o.ReadAt == nil && o.WAMessageID != "" && !o.CreatedAt.After(m.CreatedAt) {
			out = append(out, o)
		}
	}
	return out, nil
}

// bySender groups messages' keys by author, in first-seen order.
func bySender(ms []ports.Message) [][]ports.WAMessageKey {
	var out [][]ports.WAMessageKey
	at := map[string]int{}
	for _, m := range ms {
		i, ok := at[m.From]
		if !ok {
			i = len(out)
			at[m.From] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], waKey(m))
	}
	return out
}

// markRead stores the time an inbound message was read; an earlier mark
// stays. It is not a status move: inbound messages stay received.
func markRead(at time.Time) func(*ports.Message) error {
	return func(m *ports.Message) error {
		if m.ReadAt == nil {
			m.ReadAt = &at
		}
		return nil
	}
}
