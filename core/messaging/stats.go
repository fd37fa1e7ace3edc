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

// updateCounted is UpdateMessage with the statistics of the move added in
// the same transaction.
func (s *Service) updateCounted(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID, fn func(*ports.Message) error) (ports.Message, error) {
	var out ports.Message
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
		return s.addStats(ctx, st, out, statusCounters(before, out))
	})
	return out, err
}

// createCounted stores an inbound message and counts it received, in one
// transaction.
func (s *Service) createCounted(ctx context.Context, m ports.Message) error {
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := st.Messages.CreateMessage(ctx, m.SubscriptionID, m); err != nil {
			return err
		}
		return s.addStats(ctx, st, m, ports.Counters{Received: 1})
	})
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
