package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// Statistics (SPEC §11) count each message once however many retries it
// took: a state counts when the message first reaches it, which the
// status move itself tells (a time set for the first time, a first move
// to failed). The count is written in the transaction of the move, under
// the message's row lock, so a retried job or a duplicate receipt, which
// finds the state already reached, adds nothing; and a count is never
// made for a move that did not commit.

// statusCounters returns what a move from before to after adds. A read
// receipt that comes first counts delivered too: a read message was
// delivered.
func statusCounters(before, after ports.Message) ports.Counters {
	var c ports.Counters
	if before.SentAt == nil && after.SentAt != nil {
		c.Sent = 1
	}
	if before.Status != ports.MsgFailed && after.Status == ports.MsgFailed {
		c.Failed = 1
	}
	if before.DeliveredAt == nil && after.DeliveredAt != nil {
		c.Delivered = 1
	}
	if before.ReadAt == nil && after.ReadAt != nil {
		c.Read = 1
	}
	return c
}

// updateCounted is UpdateMessage with the statistics of the move and,
// when the status moved, its message.status event, in one transaction.
func (s *Service) updateCounted(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID, fn func(*ports.Message) error) (ports.Message, error) {
	var out ports.Message
	moved := false
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var before ports.Message
		var err error
		out, err = st.Messages.UpdateMessage(ctx, sub, id, func(m *ports.Message) error {
			before = *m // the moves replace the time pointers, never write through them
			return fn(m)
		})
		if err != nil {
			return err
		}
		if err := s.addStats(ctx, st, out, statusCounters(before, out)); err != nil {
			return err
		}
		moved = out.Status != before.Status
		if !moved {
			return nil
		}
		return s.appendStatus(ctx, st, out)
	})
	if err == nil && moved {
		s.d.Events.Wake(ctx, sub)
	}
	return out, err
}

// createReceived stores an inbound message through st (a transaction's
// stores), counts it received and appends its message.received event.
func (s *Service) createReceived(ctx context.Context, st ports.Stores, m ports.Message) error {
	if err := st.Messages.CreateMessage(ctx, m.SubscriptionID, m); err != nil {
		return err
	}
	if err := s.addStats(ctx, st, m, ports.Counters{Received: 1}); err != nil {
		return err
	}
	_, err := s.d.Events.Append(ctx, st, ports.EventMessageReceived, m.SubscriptionID, m.InstanceID, m)
	return err
}

// appendStatus appends m's message.status event through st.
func (s *Service) appendStatus(ctx context.Context, st ports.Stores, m ports.Message) error {
	data := ports.MessageStatusData{MessageID: m.ID, Status: m.Status, ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage}
	_, err := s.d.Events.Append(ctx, st, ports.EventMessageStatus, m.SubscriptionID, m.InstanceID, data)
	return err
}

// addStats adds c to the counters of m's instance for today (UTC).
func (s *Service) addStats(ctx context.Context, st ports.Stores, m ports.Message, c ports.Counters) error {
	if c.IsZero() {
		return nil
	}
	if err := st.Stats.AddStats(ctx, m.SubscriptionID, m.InstanceID, s.d.Clock.Now(), c); err != nil {
		return fmt.Errorf("count message %s: %w", m.ID, err)
	}
	return nil
}
