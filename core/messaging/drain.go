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

// aheadBatch is how many messages a run claims at once behind the one on
// the wire when pacing is off: one transaction then claims them and
// records the outcomes of the sends before, instead of one a message.
// With a pause between sends a run claims one at a time, each once its
// pause is over.
const aheadBatch = 8

// drain sends the messages of m's instance, oldest first, while holding
// the instance's turn, until none is left. It returns nil once none is
// left, or when another run drains the instance (it was told to look
// again); an error when it stops with messages left, which keeps its job
// in the queue to go on later: the other jobs of the instance that ended
// while it held the turn count on it.
//
// The run is a two-stage pipeline: while the last message claimed waits
// for WhatsApp's answer (whatsmeow sends one message of a client at a
// time), the run records the outcomes of the sends before it and claims
// and readies the next messages (ahead, up to aheadBatch), so that the
// next send starts as soon as the answer is in. Each message is still
// claimed, under its fixed WhatsApp id, before it goes out, and goes out
// only once the one before it has its answer; outcomes are recorded
// before the batch after next is claimed. A send that may pass later
// (the instance disconnected, no answer) stops the run: the messages
// claimed behind it are given back unsent (unclaim), so order holds on
// the next try.
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
		last  ports.MessageID
		queue []*prepared // claimed, to send in this order
		recs  []*pending  // outcomes of sends, still to record
	)
	for {
		if len(queue) == 0 {
			if err := s.recordAll(ctx, recs); err != nil {
				return err
			}
			recs = nil
			if queue, err = s.claimFirst(ctx, m, slot, &last, stop); err != nil || queue == nil {
				return err
			}
			if len(queue) == 0 {
				continue // not to be sent by this run: look again
			}
		}
		cur := queue[0]
		if !cur.fresh() {
			// Claimed while the sends before it took long: fresh claims
			// give them their whole time to send.
			if err := s.unclaimAll(ctx, queue, recs); err != nil {
				return err
			}
			queue, recs = nil, nil
			continue
		}
		queue, last = queue[1:], cur.claimed.ID
		slot.sending()
		var ahead chan lookahead
		if len(queue) == 0 {
			ahead = make(chan lookahead, 1)
			go func(cur *prepared, recs []*pending) { ahead <- s.ahead(ctx, cur, recs, slot, stop) }(cur, recs)
			recs = nil // ahead records them
		}
		sent, err := s.d.WhatsApp.Send(cur.ctx, cur.claimed.InstanceID, cur.out)
		cur.cancel()
		var next lookahead
		if ahead != nil {
			next = <-ahead
		}
		done, retry := s.outcome(cur, sent, err)
		queue, recs = append(queue, next.ps...), append(recs, done)
		if retry != nil || next.err != nil {
			// The run stops here: the messages claimed behind this one
			// are given back, the outcomes recorded.
			if err := s.unclaimAll(ctx, queue, recs); err != nil {
				return err
			}
			if retry != nil {
				return retry
			}
			return next.err
		}
	}
}

// claimFirst claims the instance's oldest message to send, once the
// pause allows (nextToSend): nil, nil when none is left and the turn is
// given back; an empty slice when it is not to be sent by this run (the
// run looks again).
func (s *Service) claimFirst(ctx context.Context, m ports.Message, slot *slot, last *ports.MessageID, stop time.Time) ([]*prepared, error) {
	next, err := s.nextToSend(ctx, m, slot, *last, stop)
	if err != nil || next == nil {
		return nil, err
	}
	*last = next.ID
	r, err := s.ready(ctx, *next)
	if err != nil || r == nil {
		return []*prepared{}, err
	}
	ps, err := s.claimReady(ctx, []*readied{r}, nil)
	if ps == nil && err == nil {
		ps = []*prepared{}
	}
	return ps, err
}

// lookahead is what ahead readied: the next messages claimed, none when
// there is none to send right now (the run then looks as on its first
// message), or the error that stops the run.
type lookahead struct {
	ps  []*prepared
	err error
}

// ahead runs while cur is on the wire: it readies the messages after cur
// and, once the pause allows, claims them in the transaction that
// records recs, the outcomes of the sends before cur; with no message to
// claim, it records recs on their own.
func (s *Service) ahead(ctx context.Context, cur *prepared, recs []*pending, slot *slot, stop time.Time) lookahead {
	var rs []*readied
	var err error
	// cur is on the wire: its instance was linked a moment ago.
	for _, next := range s.following(ctx, cur, stop) {
		r, rerr := s.readyLinked(ctx, next)
		if rerr != nil {
			err = rerr
			break
		}
		if r == nil {
			continue // it cannot go out, and is failed out of the way
		}
		rs = append(rs, r)
		if r.md != nil {
			break // one file read ahead at a time, not a batch of them in memory
		}
	}
	if len(rs) > 0 {
		err = nil // the one that failed to ready comes again
	}
	if len(rs) == 0 || slot.wait(ctx) != nil {
		if rerr := s.recordAll(ctx, recs); rerr != nil {
			return lookahead{err: rerr}
		}
		return lookahead{err: err}
	}
	ps, err := s.claimReady(ctx, rs, recs)
	return lookahead{ps: ps, err: err}
}

// following returns the messages after cur that can be claimed ahead,
// oldest first, up to the batch: none when there are none, after an
// error (the run looks again, as on its first message, once cur is done),
// or when the run has drained long enough; they stop before another
// worker's fresh claim.
func (s *Service) following(ctx context.Context, cur *prepared, stop time.Time) []ports.Message {
	if time.Now().After(stop) {
		return nil
	}
	n := aheadBatch
	if s.pace.max > 0 {
		n = 1
	}
	next, err := s.d.Stores.Messages.FollowingToSend(ctx, cur.claimed.SubscriptionID, cur.claimed.InstanceID, cur.claimed.ID, n)
	if err != nil {
		return nil
	}
	now := s.d.Clock.Now()
	for i, m := range next {
		if s.claimedFresh(m, now) {
			return next[:i]
		}
	}
	return next
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
