package messaging

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// Turn is an instance's turn to send, for a caller that picks its own
// messages (a bulk's run, core/bulks): while it is held no other send of
// the instance runs on this node, and only the node holding the
// instance's connection takes it.
type Turn struct {
	s    *Service
	slot *slot
}

// TakeTurn takes the instance's turn, for what (named in its errors):
// ERateLimited while another node holds, or is about to claim, the
// instance's connection, or while another send of the instance is in
// flight; both retry without spending an attempt. Release it when done.
func (s *Service) TakeTurn(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, what string) (*Turn, error) {
	if !s.owns(inst) {
		// Only the owner sends: the job comes back until it lands there.
		if err := s.heldElsewhere(ctx, sub, inst, what); err != nil {
			return nil, err
		}
	}
	slot, err := s.pace.acquire(inst)
	if err != nil {
		return nil, err
	}
	return &Turn{s: s, slot: slot}, nil
}

// Send sends m, queued or sending with a stale claim, as a send job does:
// it claims m, sends it and records the outcome (nil once recorded, or
// when m is not to be sent by this run; EUnavailable when the instance is
// only disconnected or WhatsApp did not answer). ERateLimited while
// another worker's claim of m is fresh (it may still be sending it: an
// old run on this node or a dead one).
func (t *Turn) Send(ctx context.Context, m ports.Message) error {
	now := t.s.d.Clock.Now()
	if t.s.claimedFresh(m, now) {
		wait := max(m.UpdatedAt.Sub(t.s.staleBefore(now)), time.Second)
		return &ports.Error{Code: ports.ERateLimited, Message: "the message is being sent", RetryAfter: wait}
	}
	return t.s.send(ctx, m, t.slot)
}

// Release gives the turn back.
func (t *Turn) Release() { t.slot.release() }
