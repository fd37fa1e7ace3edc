package messaging

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// relayBatch bounds the messages one relay pass looks at.
const relayBatch = 200

// RunRelay re-enqueues, every RelayEvery until ctx ends, the jobs of
// messages that stayed queued longer than RelayAfter without being
// touched: the process stopped between commit and enqueue, or the queue
// lost its data. A job that is still there makes Enqueue answer EConflict,
// which is the normal case and ignored.
func (s *Service) RunRelay(ctx context.Context) {
	t := time.NewTicker(s.cfg.RelayEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.RelayOnce(ctx); err != nil && ctx.Err() == nil {
				s.d.Log.Warn("message relay", "err", err)
			} else if n > 0 {
				s.d.Log.Info("message relay re-enqueued messages", "count", n)
			}
		}
	}
}

// RelayOnce makes one relay pass and returns how many jobs it enqueued.
func (s *Service) RelayOnce(ctx context.Context) (int, error) {
	stuck, err := s.d.Outbox.ListStuck(ctx, s.d.Clock.Now().Add(-s.cfg.RelayAfter), relayBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range stuck {
		err := s.enqueue(ctx, m)
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
