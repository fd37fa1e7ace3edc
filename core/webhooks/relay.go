package webhooks

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// relayBatch bounds the deliveries one relay pass looks at.
const relayBatch = 200

// RelayOnce re-enqueues the jobs of pending deliveries overdue by more
// than RelayAfter: the process stopped between commit and enqueue, or the
// queue lost its data. A job that is still there makes Enqueue answer
// EConflict, which is ignored. It returns how many jobs it enqueued; the
// composition root calls it periodically.
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
