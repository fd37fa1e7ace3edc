package webhooks

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// relayBatch bounds the deliveries one relay pass looks at.
const relayBatch = 200

// RunRelay re-enqueues, every RelayEvery until ctx ends, the jobs of
// pending deliveries overdue by more than RelayAfter: the process stopped
// between commit and enqueue, or the queue lost its data. A job that is
// still there makes Enqueue answer EConflict, which is ignored.
func (s *Service) RunRelay(ctx context.Context) {
	t := time.NewTicker(s.cfg.RelayEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.RelayOnce(ctx); err != nil && ctx.Err() == nil {
				s.d.Log.Warn("webhook relay", "err", err)
			} else if n > 0 {
				s.d.Log.Info("webhook relay re-enqueued deliveries", "count", n)
			}
		}
	}
}

// RelayOnce makes one relay pass and returns how many jobs it enqueued.
func (s *Service) RelayOnce(ctx context.Context) (int, error) {
	due, err := s.d.Outbox.ListDue(ctx, s.d.Clock.Now().Add(-s.cfg.RelayAfter), relayBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		err := s.enqueue(ctx, d)
		switch {
		case err == nil:
			n++
		case ports.IsCode(err, ports.EConflict):
		default:
			return n, err
		}
	}
	return n, nil
}
