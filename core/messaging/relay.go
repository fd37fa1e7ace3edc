package messaging

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// relayBatch bounds the messages one relay pass looks at.
const relayBatch = 200

// RelayOnce re-enqueues the jobs of messages left behind: queued or
// sending, untouched for longer than RelayAfter and ClaimStaleAfter. The
// process stopped between commit and enqueue, or during a send (the
// message stayed sending; its job, run again, sends it once more under
// the same WhatsApp id), or the queue lost its data. Bulk recipients are
// not listed: their bulk's run sends them. A job that is still there makes
// Enqueue answer EConflict, which is the normal case and ignored. It
// returns how many jobs it enqueued; the composition root calls it
// periodically.
func (s *Service) RelayOnce(ctx context.Context) (int, error) {
	olderThan := s.d.Clock.Now().Add(-max(s.cfg.RelayAfter, s.cfg.ClaimStaleAfter))
	stuck, err := s.d.Outbox.ListStuck(ctx, olderThan, relayBatch)
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
