package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// drainFor bounds how long one run drains an instance's queue: a backlog
// paced at seconds a message would otherwise hold a worker that other
// instances' messages need. The run then defers its job, which comes back
// to go on.
const drainFor = 10 * time.Second

// drain sends the messages of m's instance, oldest first, while holding
// the instance's turn, until none is left. It returns nil once none is
// left, or when another run drains the instance (it was told to look
// again); an error when it stops with messages left, which keeps its job
// in the queue to go on later: the other jobs of the instance that ended
// while it held the turn count on it.
//
// The run is a two-stage pipeline, one message deep: while a send waits
// for WhatsApp's answer (whatsmeow sends one message of a client at a
// time), the run records the outcome of the send before it and claims
// and readies the next message (ahead), so that the next send starts as
// soon as the answer is in. Each message is still claimed, under its
// fixed WhatsApp id, before it goes out, and goes out only once the one
// before it has its answer; an outcome is recorded before the message
// after next is claimed. A send that may pass later (the instance
// disconnected, no answer) stops the run: the message claimed behind it
// is given back unsent (unclaim), so order holds on the next try.
func (s *Service) drain(ctx context.Context, m ports.Message) error {
	if err := s.checkOwner(ctx, m); err != nil {
		return err
	}
	slot, err := s.pace.join(m.InstanceID)
	if err != nil || slot == nil {
		return err
	}
	defer slot.release()
	stop := time.Now().Add(drainFor)
	var (
		last ports.MessageID
		cur  *prepared // claimed, to send next
		rec  *pending  // the outcome of the last send, when still to record
	)
	for {
		if cur == nil {
			if rec != nil {
				if err := s.record(ctx, rec); err != nil {
					return err
				}
				rec = nil
			}
			next, err := s.nextToSend(ctx, m, slot, last, stop)
			if err != nil || next == nil {
				return err
			}
			last = next.ID
			r, err := s.ready(ctx, *next)
			if err != nil {
				return err
			}
			if r != nil {
				cur, err = s.claimReady(ctx, r, nil)
				if err != nil {
					return err
				}
			}
			if cur == nil {
				continue // not to be sent by this run: look again
			}
		}
		slot.sending()
		ahead := make(chan lookahead, 1)
		go func(cur *prepared, rec *pending) { ahead <- s.ahead(ctx, cur, rec, slot, stop) }(cur, rec)
		sent, err := s.d.WhatsApp.Send(cur.ctx, cur.claimed.InstanceID, cur.out)
		cur.cancel()
		next := <-ahead
		done, retry := s.outcome(cur, sent, err)
		if retry != nil || next.err != nil {
			// The run stops here: the message readied behind this one is
			// given back, this one's outcome recorded.
			if next.p != nil {
				if err := s.unclaim(ctx, next.p); err != nil {
					return err
				}
			}
			if err := s.record(ctx, done); err != nil {
				return err
			}
			if retry != nil {
				return retry
			}
			return next.err
		}
		if next.p != nil && !next.p.fresh() {
			// Claimed while the send before it took long: a fresh claim
			// gives it its whole time to send.
			if err := s.unclaim(ctx, next.p); err != nil {
				return err
			}
			next.p = nil
		}
		cur, rec = next.p, done
		if cur != nil {
			last = cur.claimed.ID
		}
	}
}

// lookahead is what ahead readied: the next message claimed, nil when
// there is none to send right now (the run then looks as on its first
// message), or the error that stops the run.
type lookahead struct {
	p   *prepared
	err error
}

// ahead runs while cur is on the wire: it readies the message after cur
// and, once the pause allows, claims it in the transaction that records
// the outcome of the send before cur (rec, nil when there is none); with
// no message to claim, it records rec on its own.
func (s *Service) ahead(ctx context.Context, cur *prepared, rec *pending, slot *slot, stop time.Time) lookahead {
	var r *readied
	var err error
	if next, ok := s.following(ctx, cur, stop); ok {
		// cur is on the wire: its instance was linked a moment ago.
		r, err = s.readyLinked(ctx, next)
	}
	if r == nil || err != nil || slot.wait(ctx) != nil {
		if rec != nil {
			if rerr := s.record(ctx, rec); rerr != nil {
				return lookahead{err: rerr}
			}
		}
		return lookahead{err: err}
	}
	p, err := s.claimReady(ctx, r, rec)
	return lookahead{p: p, err: err}
}

// following returns the message after cur when it can be claimed ahead:
// false when there is none, when it is another worker's fresh claim, on
// an error (the run looks again, as on its first message, once cur is
// done), or when the run has drained long enough.
func (s *Service) following(ctx context.Context, cur *prepared, stop time.Time) (ports.Message, bool) {
	if time.Now().After(stop) {
		return ports.Message{}, false
	}
	next, err := s.d.Stores.Messages.NextToSend(ctx, cur.claimed.SubscriptionID, cur.claimed.InstanceID, cur.claimed.ID)
	if err != nil || s.claimedFresh(next, s.d.Clock.Now()) {
		return ports.Message{}, false
	}
	return next, true
}

// nextToSend returns the instance's oldest message to send, once the
// pause allows; nil, nil when there is none left and the turn is given
// back (or another job of the instance came meanwhile: then it looks
// again); ERateLimited when the run should stop and its job come back
// later.
func (s *Service) nextToSend(ctx context.Context, m ports.Message, slot *slot, last ports.MessageID, stop time.Time) (*ports.Message, error) {
	for {
		next, err := s.d.Stores.Messages.NextToSend(ctx, m.SubscriptionID, m.InstanceID, "")
		if ports.IsCode(err, ports.ENotFound) {
			if slot.done() {
				return nil, nil
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("next message of %s: %w", m.InstanceID, err)
		}
		now := s.d.Clock.Now()
		if s.claimedFresh(next, now) {
			// Claimed by a worker that may still be sending it (another node,
			// or one that died a moment ago): the later messages wait until
			// it is sent or its claim goes stale.
			wait := max(next.UpdatedAt.Sub(s.staleBefore(now)), 0) + time.Second
			return nil, &ports.Error{Code: ports.ERateLimited, Message: "the instance's oldest message is being sent", RetryAfter: wait}
		}
		if next.ID == last {
			// The send left it to send: should that ever happen without an
			// error, the job comes back rather than spin.
			return nil, &ports.Error{Code: ports.ERateLimited, Message: "the instance's oldest message did not move", RetryAfter: time.Second}
		}
		if last != "" && time.Now().After(stop) {
			return nil, &ports.Error{Code: ports.ERateLimited, Message: "drained the instance long enough; the rest goes on later",
				RetryAfter: max(time.Until(slot.until), 0)}
		}
		if err := slot.wait(ctx); err != nil {
			return nil, ports.Errorf(ports.EUnavailable, "send %s: %v", next.ID, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, ports.Errorf(ports.EUnavailable, "send %s: %v", next.ID, err)
		}
		return &next, nil
	}
}
