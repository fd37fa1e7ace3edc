package app

import (
	"context"
	"log/slog"
	"time"
)

// How often the periodic passes run. The relays pick up jobs lost between
// a commit and its enqueue (or with Redis's data), so they run often; the
// purges only reclaim space from expired rows, which are harmless meanwhile.
const (
	relayEvery      = 5 * time.Second
	tokenPurgeEvery = time.Hour
	idemPurgeEvery  = 10 * time.Minute
	// webhookSweepEvery: an endpoint failing for 5 days is disabled within
	// minutes of the deadline even when no attempt comes to notice.
	webhookSweepEvery = 5 * time.Minute
	// eventPurgeEvery: the log only needs trimming to its retention.
	eventPurgeEvery = 10 * time.Minute
	// exportPurgeEvery: an export's file is a whole subscription's data,
	// gone within minutes of its 24 hours rather than within the hour of
	// the retention purge.
	exportPurgeEvery = 5 * time.Minute
	// statsFlushEvery bounds what a crash loses of the API call counts.
	statsFlushEvery = 5 * time.Second
)

// pass is one module's periodic step: fn does one pass and returns how
// many rows it moved.
type pass struct {
	name  string
	every time.Duration
	fn    func(context.Context) (int, error)
}

// passes are every timed background step of the modules, scheduled here
// in one place; each module only offers its single pass. Two loops stay in
// their modules because they are not schedules: the API keys' lastUsedAt
// writer drains the touches requests queue, as they come; the ownership
// lease loop ticks at once at start, then at a third of the lease TTL,
// which its correctness (renewing before a lease expires) depends on.
func (s *system) passes(cfg Config) []pass {
	tokens := s.store.Stores().Tokens
	return []pass{
		{"purge expired tokens", tokenPurgeEvery, func(ctx context.Context) (int, error) {
			return tokens.PurgeExpiredTokens(ctx, time.Now())
		}},
		{"message relay", relayEvery, s.messaging.RelayOnce},
		{"bulk relay", relayEvery, s.bulks.Relay},
		{"event dispatch relay", relayEvery, s.webhooks.DispatchBacklog},
		{"webhook relay", relayEvery, s.webhooks.RelayOnce},
		{"purge old events", eventPurgeEvery, func(ctx context.Context) (int, error) {
			return s.purgeEvents(ctx, cfg.EventRetention)
		}},
		{"webhook auto-disable", webhookSweepEvery, s.webhooks.DisableStaleOnce},
		{"retention purge", cfg.RetentionEvery, s.governance.Purge},
		{"expired export purge", exportPurgeEvery, s.exports.Purge},
		{"idempotency key purge", idemPurgeEvery, s.idempotency.PurgeOnce},
		{"flush API call counts; kept for the next flush", statsFlushEvery, func(ctx context.Context) (int, error) {
			return 0, s.stats.Flush(ctx)
		}},
	}
}

// periodic runs one pass of fn every interval until ctx ends.
func periodic(ctx context.Context, log *slog.Logger, name string, every time.Duration, fn func(context.Context) (int, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := fn(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn(name, "err", err)
			case n > 0:
				log.Info(name, "count", n)
			}
		}
	}
}

// eventPurgeBatch bounds one delete of the purge.
const eventPurgeBatch = 1000

// purgeEvents deletes the events older than retention
// (WAGATE_EVENT_RETENTION), a batch at a time so that no delete holds the
// table long.
func (s *system) purgeEvents(ctx context.Context, retention time.Duration) (int, error) {
	backlog := s.store.EventBacklog()
	total := 0
	for {
		n, err := backlog.PurgeEvents(ctx, time.Now().Add(-retention), eventPurgeBatch)
		total += n
		if err != nil || n < eventPurgeBatch {
			return total, err
		}
	}
}
