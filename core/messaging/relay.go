package messaging

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// relayBatch bounds the messages one relay pass looks at.
const relayBatch = 200

// RelayOnce re-enqueues the jobs of messages that stayed queued longer
// than RelayAfter without being touched: the process stopped between commit
// and enqueue, or the queue lost its data. A job that is still there makes
// Enqueue answer EConflict, which is the normal case and ignored. It
// returns how many jobs it enqueued; the composition root calls it
// periodically.
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
