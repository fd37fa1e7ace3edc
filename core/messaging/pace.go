package messaging

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// pacer keeps one send in flight per instance and a jittered pause between
// two sends of an instance, in this process. With one node running the
// send worker that is the whole rule; with several, the instance's lease
// owner (SPEC §14) is the only one sending its messages.
//
// The send job that takes an instance's turn drains the instance's queue:
// it sends the oldest message, pauses, sends the next, until none is left
// (HandleSend). A send job of the instance that comes meanwhile has
// nothing to do but say so (join marks the turn to look again before it is
// given back) and ends: its message goes out in the holder's run, in
// order, and the holder's job, still in the queue until its run ends,
// comes back to finish the work should the process stop. A bulk's turn
// (TakeTurn) sends only its own messages, so a send job that finds one
// holding the turn is deferred (ERateLimited, which does not use up an
// attempt), and so is a bulk step that finds the turn taken.
type pacer struct {
	min, max time.Duration

	mu   sync.Mutex
	held map[ports.InstanceID]*slot
	last map[ports.InstanceID]time.Time // when the last send started
	// queued holds when this process enqueued a send job of an instance
	// that has not started here since (needsJob).
	queued map[ports.InstanceID]time.Time
}

func newPacer(minDelay, maxDelay time.Duration) *pacer {
	return &pacer{min: minDelay, max: maxDelay, held: map[ports.InstanceID]*slot{},
		last: map[ports.InstanceID]time.Time{}, queued: map[ports.InstanceID]time.Time{}}
}

// queuedFor bounds how long a send job enqueued here is counted on to
// start here (needsJob): should it run elsewhere (the instance moved to
// another node), a message accepted later gets its own job again.
const queuedFor = 2 * time.Second

// busyRetry is how soon a job deferred by a busy instance runs again.
const busyRetry = 500 * time.Millisecond

// slot is an instance's turn to send.
type slot struct {
	p     *pacer
	inst  ports.InstanceID
	until time.Time // the pause since the last send ends here
	// drains marks a send job's turn, which sends every message of the
	// instance that is due; more, that a send job of the instance came
	// while it was held (both guarded by p.mu).
	drains, more bool
	// wake holds a token while more is set, for a holder that lingers.
	wake chan struct{}
}

// acquire takes the instance's turn for a caller that picks its own
// messages; ERateLimited if it is taken.
func (p *pacer) acquire(inst ports.InstanceID) (*slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held[inst] != nil {
		return nil, p.busy()
	}
	return p.take(inst, false), nil
}

// join takes the instance's turn for a send job, which drains the
// instance's queue. When another send job holds it, join tells the holder
// to look for messages again before it gives the turn back and returns
// nil, nil: the holder sends them. ERateLimited while a bulk holds it.
func (p *pacer) join(inst ports.InstanceID) (*slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.held[inst]; h != nil {
		if !h.drains {
			return nil, p.busy()
		}
		h.tell()
		return nil, nil
	}
	return p.take(inst, true), nil
}

// joinDraining is join for a send job that starts and has not read its
// message: when a send job holds inst's turn, it tells the holder to look
// again and reports true; else the job reads its message and goes the
// usual way. Skipping the owner check is sound only here: a drain in this
// process holds the instance. Either way a message accepted from now on
// no longer counts on a job of inst enqueued before (needsJob).
func (p *pacer) joinDraining(inst ports.InstanceID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.queued, inst)
	return p.tellDrain(inst)
}

// tellDrain tells a run of inst's that drains it to look again, and
// reports whether there is one. Caller holds mu.
func (p *pacer) tellDrain(inst ports.InstanceID) bool {
	h := p.held[inst]
	if h == nil || !h.drains {
		return false
	}
	h.tell()
	return true
}

// needsJob reports whether a message of inst just committed needs a send
// job. It does not when a run of this process drains the instance (told
// to look again, it sends the message) nor, if this process owns the
// instance (own), while a send job of it enqueued here has not started:
// that job's run looks for messages after it starts, so it finds this
// one. At a high accept rate most messages go without a job, and a
// burst to an idle instance makes one job, not one a message. Else
// needsJob counts the job the caller enqueues as queued (unqueued undoes
// that should the enqueue fail).
func (p *pacer) needsJob(inst ports.InstanceID, own bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tellDrain(inst) {
		return false
	}
	if !own {
		return true
	}
	now := time.Now()
	if at, ok := p.queued[inst]; ok && now.Sub(at) < queuedFor {
		return false
	}
	p.queued[inst] = now
	return true
}

// unqueued forgets a job of inst that could not be enqueued.
func (p *pacer) unqueued(inst ports.InstanceID) {
	p.mu.Lock()
	delete(p.queued, inst)
	p.mu.Unlock()
}

// tell marks that a send job of the instance came, and wakes the holder
// should it linger. Caller holds p.mu.
func (s *slot) tell() {
	s.more = true
	select {
	case s.wake <- struct{}{}:
	default: // a token is there already
	}
}

func (p *pacer) busy() error {
	return &ports.Error{Code: ports.ERateLimited, Message: "another send of the instance is in flight", RetryAfter: max(busyRetry, p.min)}
}

// take gives inst's turn to a new slot. Caller holds mu.
func (p *pacer) take(inst ports.InstanceID, drains bool) *slot {
	s := &slot{p: p, inst: inst, drains: drains, wake: make(chan struct{}, 1)}
	if last, ok := p.last[inst]; ok {
		s.until = last.Add(p.delay())
	}
	p.held[inst] = s
	return s
}

// delay is a random pause between min and max.
func (p *pacer) delay() time.Duration {
	if p.max <= p.min {
		return p.min
	}
	return p.min + rand.N(p.max-p.min+1)
}

// wait sleeps until the pause is over or ctx ends.
func (s *slot) wait(ctx context.Context) error { return waitUntil(ctx, s.until) }

// waitUntil waits until the time, or for ctx to end.
func waitUntil(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sending records that a send starts now: the next pause counts from here.
func (s *slot) sending() {
	s.p.mu.Lock()
	now := time.Now()
	s.p.last[s.inst] = now
	s.until = now.Add(s.p.delay())
	s.p.mu.Unlock()
}

// done gives the turn back when no send job of the instance came since
// the holder last looked for messages, and reports whether it did; else
// the holder looks again. With linger > 0 the holder first waits that
// long for one to come (or for ctx to end).
func (s *slot) done(ctx context.Context, linger time.Duration) bool {
	if linger > 0 {
		s.linger(ctx, linger)
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if s.more {
		s.more = false
		return false
	}
	s.free()
	return true
}

// linger waits up to d for a send job of the instance to come, unless one
// came already.
func (s *slot) linger(ctx context.Context, d time.Duration) {
	s.p.mu.Lock()
	came := s.more
	if !came {
		select {
		case <-s.wake: // left by a job whose more was already taken
		default:
		}
	}
	s.p.mu.Unlock()
	if came {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.wake:
	case <-t.C:
	case <-ctx.Done():
	}
}

// release gives the turn back (again: a no-op after done).
func (s *slot) release() {
	s.p.mu.Lock()
	s.free()
	s.p.mu.Unlock()
}

// free gives the turn back. Caller holds p.mu.
func (s *slot) free() {
	if s.p.held[s.inst] == s {
		delete(s.p.held, s.inst)
	}
}
