package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// Actions on messages already sent or received (SPEC §6a): a reaction, an
// edit, a deletion, a read mark and a chat presence go to WhatsApp at
// once, as the caller waits, rather than through the outbox: they are
// small, change what the caller sees next, and a failure is better told
// than retried behind its back. A forward is a send like any other
// (forward.go).

// actions returns the adapter's message actions, or not_supported when
// none were wired.
func (s *Service) actions() (ports.WAActions, error) {
	if s.d.Actions == nil {
		return nil, ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot act on messages")
	}
	return s.d.Actions, nil
}

// actionTarget loads a message of the instance for an action: the caller
// must be able to send from the instance; another instance's or tenant's
// message is ENotFound.
func (s *Service) actionTarget(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) (ports.Message, ports.Instance, error) {
	if err := canSend(p, inst); err != nil {
		return ports.Message{}, ports.Instance{}, err
	}
	i, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst)
	if err != nil {
		return ports.Message{}, ports.Instance{}, fmt.Errorf("get instance: %w", err)
	}
	m, err := s.d.Stores.Messages.GetMessage(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Message{}, ports.Instance{}, fmt.Errorf("get message: %w", err)
	}
	if m.InstanceID != inst {
		return ports.Message{}, ports.Instance{}, ports.Errorf(ports.ENotFound, "message not found")
	}
	return m, i, nil
}

// onWhatsApp is the conflict of an action on a message WhatsApp does not
// have (yet, or any more).
func onWhatsApp(m ports.Message) error {
	switch {
	case m.DeletedAt != nil || m.Status == ports.MsgDeleted:
		return ports.ReasonError(ports.EConflict, "message_deleted", "the message was deleted")
	case m.WAMessageID == "" || m.Status == ports.MsgQueued || m.Status == ports.MsgSending ||
		m.Status == ports.MsgFailed || m.Status == ports.MsgCancelled:
		return ports.ReasonError(ports.EConflict, "message_not_sent", "the message has not been sent")
	}
	return nil
}

// waKey names m on WhatsApp, as the instance sees it.
func waKey(m ports.Message) ports.WAMessageKey {
	k := ports.WAMessageKey{Chat: m.Chat, ID: m.WAMessageID, FromMe: m.Direction == ports.DirectionOutbound}
	if !k.FromMe {
		k.Sender = m.From
	}
	return k
}

// updateWithEvent updates a message and appends one event about it in the
// same transaction (data built from the updated message), then wakes the
// dispatcher. A status move also gets its message.status event.
func (s *Service) updateWithEvent(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID, fn func(*ports.Message) error,
	t ports.EventType, data func(ports.Message) any) (ports.Message, error) {
	var out ports.Message
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var before ports.MessageStatus
		var err error
		out, err = st.Messages.UpdateMessage(ctx, sub, id, func(m *ports.Message) error {
			before = m.Status
			return fn(m)
		})
		if err != nil {
			return err
		}
		if out.Status != before {
			if err := s.appendStatus(ctx, st, out); err != nil {
				return err
			}
		}
		if t == "" {
			return nil
		}
		_, err = s.d.Events.Append(ctx, st, t, sub, out.InstanceID, data(out))
		return err
	})
	if err != nil {
		return ports.Message{}, err
	}
	s.d.Events.Wake(ctx, sub)
	return out, nil
}
