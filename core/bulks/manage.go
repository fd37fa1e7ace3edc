package bulks

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// Get returns a bulk with its progress. Users reach every bulk of
// their subscription; API keys need messages:read and reach their own
// instance's bulks only (another's is ENotFound).
func (s *Service) Get(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	b, err := s.readableBulk(ctx, p, id)
	if err != nil {
		return ports.BulkSummary{}, err
	}
	return s.summary(ctx, b)
}

// ListMessages pages through a bulk's messages in recipient order,
// with Get's rules.
func (s *Service) ListMessages(ctx context.Context, p ports.Principal, id ports.BulkID, page ports.PageRequest) (ports.Page[ports.Message], error) {
	b, err := s.readableBulk(ctx, p, id)
	if err != nil {
		return ports.Page[ports.Message]{}, err
	}
	out, err := s.d.Stores.Bulks.ListBulkMessages(ctx, p.SubscriptionID, b.ID, page)
	if err != nil {
		return ports.Page[ports.Message]{}, fmt.Errorf("list bulk messages: %w", err)
	}
	return out, nil
}

func (s *Service) readableBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.Bulk, error) {
	if err := p.RequireScope(ports.ScopeMessagesRead); err != nil {
		return ports.Bulk{}, err
	}
	return s.ownBulk(ctx, p, id)
}

// ownBulk loads the bulk if the caller reaches it: an API key only its
// own instance's.
func (s *Service) ownBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.Bulk, error) {
	b, err := s.d.Stores.Bulks.GetBulk(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Bulk{}, fmt.Errorf("get bulk: %w", err)
	}
	if p.CanActOn(b.InstanceID) != nil {
		return ports.Bulk{}, ports.Errorf(ports.ENotFound, "bulk not found")
	}
	return b, nil
}

// Pause stops a running bulk after the send in flight, if any.
// EConflict unless it is running. API keys need messages:send.
func (s *Service) Pause(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	return s.changeBulk(ctx, p, id, func(_ context.Context, b *ports.Bulk, _ ports.Stores) error {
		if b.Status != ports.BulkRunning {
			return errBulkState(b.Status, "pause", "running")
		}
		b.Status = ports.BulkPaused
		return nil
	}, false)
}

// Resume starts a paused bulk's run again, at its first recipient not
// yet sent. EConflict unless it is paused.
func (s *Service) Resume(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	return s.changeBulk(ctx, p, id, func(_ context.Context, b *ports.Bulk, _ ports.Stores) error {
		if b.Status != ports.BulkPaused {
			return errBulkState(b.Status, "resume", "paused")
		}
		// A new generation: a step of the paused run still waiting in the
		// queue must not run alongside the new one.
		b.Status, b.Generation = ports.BulkRunning, b.Generation+1
		if b.StartedAt == nil {
			now := s.d.Clock.Now()
			b.StartedAt = &now
		}
		return nil
	}, true)
}

// Cancel ends a bulk that has not ended: its recipients still queued
// fail with bulk_cancelled in the same transaction; a send in flight
// completes. EConflict for a completed or cancelled bulk.
func (s *Service) Cancel(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	return s.changeBulk(ctx, p, id, func(ctx context.Context, b *ports.Bulk, st ports.Stores) error {
		if b.Status == ports.BulkCompleted || b.Status == ports.BulkCancelled {
			return errBulkState(b.Status, "cancel", "scheduled, running or paused")
		}
		now := s.d.Clock.Now()
		b.Status, b.CompletedAt = ports.BulkCancelled, &now
		return s.failQueued(ctx, st, *b, "bulk_cancelled", "the bulk was cancelled")
	}, false)
}

// failQueued fails b's recipients still queued with code and counts them
// failed in the statistics, in the caller's transaction: like any message,
// each counts once, when it fails.
func (s *Service) failQueued(ctx context.Context, st ports.Stores, b ports.Bulk, code, msg string) error {
	now := s.d.Clock.Now()
	n, err := st.Bulks.FailQueued(ctx, b.SubscriptionID, b.ID, code, msg, now)
	if err != nil {
		return fmt.Errorf("fail queued recipients: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := st.Stats.AddStats(ctx, b.SubscriptionID, b.InstanceID, now, ports.Counters{Failed: int64(n)}); err != nil {
		return fmt.Errorf("count failed recipients of %s: %w", b.ID, err)
	}
	return nil
}

// changeBulk applies an owner's status change under the bulk's lock
// (move gets the transaction's ctx and stores), announces it and, when run is set, enqueues the first step of the new
// generation.
func (s *Service) changeBulk(ctx context.Context, p ports.Principal, id ports.BulkID, move func(context.Context, *ports.Bulk, ports.Stores) error, run bool) (ports.BulkSummary, error) {
	if err := p.RequireScope(ports.ScopeMessagesSend); err != nil {
		return ports.BulkSummary{}, err
	}
	if _, err := s.ownBulk(ctx, p, id); err != nil {
		return ports.BulkSummary{}, err
	}
	var b ports.Bulk
	var sum ports.BulkSummary
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		b, err = st.Bulks.UpdateBulk(ctx, p.SubscriptionID, id, func(b *ports.Bulk) error {
			if err := move(ctx, b, st); err != nil {
				return err
			}
			b.UpdatedAt = s.d.Clock.Now()
			return nil
		})
		if err != nil {
			return err
		}
		sum, err = s.announce(ctx, st, b)
		return err
	})
	if err != nil {
		return ports.BulkSummary{}, err
	}
	s.d.Events.Wake(ctx, p.SubscriptionID)
	if run {
		if err := s.enqueueStep(ctx, b, s.d.Clock.Now()); err != nil {
			s.d.Log.Warn("enqueue bulk step; the bulk relay will retry", "bulk", string(b.ID), "err", err)
		}
	}
	return sum, nil
}

// summary adds the progress counts to b.
func (s *Service) summary(ctx context.Context, b ports.Bulk) (ports.BulkSummary, error) {
	c, err := s.d.Stores.Bulks.CountBulk(ctx, b.SubscriptionID, b.ID)
	if err != nil {
		return ports.BulkSummary{}, fmt.Errorf("count bulk: %w", err)
	}
	return ports.BulkSummary{Bulk: b, Counts: c}, nil
}

// announce appends b's bulk.status event with its progress, counted
// through st, the stores of the move's transaction, and returns the
// summary. The caller wakes the dispatcher after the commit.
func (s *Service) announce(ctx context.Context, st ports.Stores, b ports.Bulk) (ports.BulkSummary, error) {
	c, err := st.Bulks.CountBulk(ctx, b.SubscriptionID, b.ID)
	if err != nil {
		return ports.BulkSummary{}, fmt.Errorf("count bulk: %w", err)
	}
	sum := ports.BulkSummary{Bulk: b, Counts: c}
	if _, err := s.d.Events.Append(ctx, st, ports.EventBulkStatus, b.SubscriptionID, b.InstanceID, sum); err != nil {
		return ports.BulkSummary{}, err
	}
	return sum, nil
}

func errBulkState(now ports.BulkStatus, verb, want string) error {
	return ports.Errorf(ports.EConflict, "cannot %s a bulk that is %s: it must be %s", verb, now, want)
}
