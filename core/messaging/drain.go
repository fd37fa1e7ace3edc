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
// The run is a two-stage pipeline: while the messages claimed go out one
// after another (whatsmeow sends one message of a client at a time,
// waiting for WhatsApp's answer), the run records the outcomes of the
// sends before and claims and readies the next messages (ahead, up to
// aheadBatch), so that the next send starts as soon as the answer is in
// and the database's work hides behind the wire's. Each message is still
// claimed, under its fixed WhatsApp id, before it goes out, and goes out
// only once the one before it has its answer. A send that may pass later
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
	// Every return below waits for a look-ahead still running first.
	r := &run{s: s, ctx: ctx, slot: slot, stop: time.Now().Add(drainFor)}
	for {
		if len(r.queue) == 0 && r.ahead != nil {
			if err := r.join(); err != nil {
				return r.halt(err)
			}
		}
		if len(r.queue) == 0 {
			if err := s.recordAll(ctx, r.recs); err != nil {
				return err
			}
			r.recs = nil
			if r.queue, err = s.claimFirst(ctx, m, slot, &r.last, r.stop); err != nil || r.queue == nil {
				return err
			}
			if len(r.queue) == 0 {
				continue // not to be sent by this run: look again
			}
		}
		cur := r.queue[0]
		if !cur.fresh() {
			// Claimed while the sends before it took long: fresh claims
			// give them their whole time to send.
			aheadErr := r.wait()
			if err := r.giveBack(); err != nil {
				return err
			}
			if aheadErr != nil {
				return aheadErr
			}
			continue
		}
		r.queue, r.last = r.queue[1:], cur.claimed.ID
		slot.sending()
		r.lookAhead(cur)
		began := time.Now()
		sent, err := s.d.WhatsApp.Send(cur.ctx, cur.claimed.InstanceID, cur.out)
		cur.cancel()
		r.timed(time.Since(began))
		done, retry := s.outcome(cur, sent, err)
		r.recs = append(r.recs, done)
		if retry != nil {
			return r.halt(retry)
		}
		if err := r.poll(); err != nil {
			return r.halt(err)
		}
	}
}

// run is the state of one draining run: the messages claimed and not
// yet sent, in order, the outcomes still to record, and the look-ahead
// in flight, if any.
type run struct {
	s     *Service
	ctx   context.Context
	slot  *slot
	stop  time.Time
	last  ports.MessageID
	queue []*prepared
	recs  []*pending
	ahead chan lookahead // nil when no look-ahead runs
	// perSend is how long a send of this run takes, a moving average.
	perSend time.Duration
}

// timed adds a send's time to the average.
func (r *run) timed(d time.Duration) {
	if r.perSend == 0 {
		r.perSend = d
		return
	}
	r.perSend = (3*r.perSend + d) / 4
}

// lookAhead starts the next look-ahead when none runs: it claims the
// messages after the last one claimed and records the outcomes so far.
// With messages still queued it starts only if the last of the batch it
// claims will likely go out within a quarter of the send timeout, so that
// claims made ahead stay fresh (half of it left) on a slow connection.
// With a pause between sends the queue is empty here, and the look-ahead
// waits for the pause.
func (r *run) lookAhead(cur *prepared) {
	if r.ahead != nil {
		return
	}
	if n := len(r.queue); n > 0 && time.Duration(n+aheadBatch)*r.perSend > r.s.cfg.SendTimeout/4 {
		return
	}
	tail := cur
	if len(r.queue) > 0 {
		tail = r.queue[len(r.queue)-1]
	}
	ch := make(chan lookahead, 1)
	go func(recs []*pending, until time.Time) { ch <- r.s.ahead(r.ctx, tail, recs, until, r.stop) }(r.recs, r.slot.until)
	r.ahead, r.recs = ch, nil // the look-ahead records them
}

// join waits for the look-ahead and queues what it claimed.
func (r *run) join() error { return r.take(<-r.ahead) }

// poll takes the look-ahead's claims if it is done, without waiting.
func (r *run) poll() error {
	select {
	case next := <-r.ahead: // never ready while nil
		return r.take(next)
	default:
		return nil
	}
}

// take queues what a finished look-ahead claimed and returns its error.
func (r *run) take(next lookahead) error {
	r.ahead = nil
	r.queue = append(r.queue, next.ps...)
	return next.err
}

// wait joins a look-ahead still running, if any.
func (r *run) wait() error {
	if r.ahead == nil {
		return nil
	}
	return r.join()
}

// giveBack gives back every claim not yet sent and records the outcomes
// so far. Caller has waited for the look-ahead.
func (r *run) giveBack() error {
	if err := r.s.unclaimAll(r.ctx, r.queue, r.recs); err != nil {
		return err
	}
	r.queue, r.recs = nil, nil
	return nil
}

// halt stops the run with err: the look-ahead is waited for (err wins
// over its error), the claims not sent are given back, the outcomes
// recorded.
func (r *run) halt(err error) error {
	_ = r.wait()
	if gerr := r.giveBack(); gerr != nil {
		return gerr
	}
	return err
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

// ahead runs while the run's sends go out: it readies the messages after
// tail, the last one claimed, and, once the pause allows (until), claims
// them in the transaction that records recs, the outcomes of the sends
// so far; with no message to claim, it records recs on their own.
func (s *Service) ahead(ctx context.Context, tail *prepared, recs []*pending, until time.Time, stop time.Time) lookahead {
	var rs []*readied
	var err error
	// The run is sending: the instance was linked a moment ago.
	for _, next := range s.following(ctx, tail, stop) {
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
	if len(rs) == 0 || waitUntil(ctx, until) != nil {
		if rerr := s.recordAll(ctx, recs); rerr != nil {
			return lookahead{err: rerr}
		}
		return lookahead{err: err}
	}
	ps, err := s.claimReady(ctx, rs, recs)
	return lookahead{ps: ps, err: err}
}

// following returns the messages after tail that can be claimed ahead,
// oldest first, up to the batch: none when there are none, after an
// error (the run looks again, as on its first message, once its queue is
// sent), or when the run has drained long enough; they stop before
// another worker's fresh claim.
func (s *Service) following(ctx context.Context, tail *prepared, stop time.Time) []ports.Message {
	if time.Now().After(stop) {
		return nil
	}
	n := aheadBatch
	if s.pace.max > 0 {
		n = 1
	}
	next, err := s.d.Stores.Messages.FollowingToSend(ctx, tail.claimed.SubscriptionID, tail.claimed.InstanceID, tail.claimed.ID, n)
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

// lingerFor is how long a run with pacing off keeps the instance's turn
// once its queue is empty, for the next message to come: a message
// accepted meanwhile goes out in the run, without a send job of its own
// (enqueued, taken, acknowledged) nor a new run. At a steady rate of
// sends, as from an application sending one message after another, the
// run goes on; an instance with nothing more to send holds a worker this
// much longer.
const lingerFor = 20 * time.Millisecond

// linger is how long a run keeps the turn with nothing to send: none with
// a pause between sends, which is longer than the gap a linger bridges.
func (s *Service) linger() time.Duration {
	if s.pace.max > 0 {
		return 0
	}
	return lingerFor
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
			if slot.done(ctx, s.linger()) {
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
