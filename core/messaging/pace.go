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
// owner (SPEC §14) will be the only one sending its messages.
//
// A job that finds its instance busy is deferred (ERateLimited, which does
// not use up an attempt) rather than waiting: a waiting job would hold a
// worker that other instances' messages need. Deferring does not reorder
// an instance's messages: whichever job holds the slot sends the
// instance's oldest message (HandleSend).
type pacer struct {
	min, max time.Duration

	mu   sync.Mutex
	busy map[ports.InstanceID]bool
	last map[ports.InstanceID]time.Time // when the last send started
}

func newPacer(minDelay, maxDelay time.Duration) *pacer {
	return &pacer{min: minDelay, max: maxDelay, busy: map[ports.InstanceID]bool{}, last: map[ports.InstanceID]time.Time{}}
}

// busyRetry is how soon a job deferred by a busy instance runs again.
const busyRetry = 500 * time.Millisecond

// slot is an instance's turn to send.
type slot struct {
	p     *pacer
	inst  ports.InstanceID
	until time.Time // the pause since the last send ends here
}

// acquire takes the instance's turn; ERateLimited if it is taken.
func (p *pacer) acquire(inst ports.InstanceID) (*slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy[inst] {
		return nil, &ports.Error{Code: ports.ERateLimited, Message: "another send of the instance is in flight", RetryAfter: max(busyRetry, p.min)}
	}
	p.busy[inst] = true
	until := time.Time{}
	if last, ok := p.last[inst]; ok {
		until = last.Add(p.delay())
	}
	return &slot{p: p, inst: inst, until: until}, nil
}

// delay is a random pause between min and max.
func (p *pacer) delay() time.Duration {
	if p.max <= p.min {
		return p.min
	}
	return p.min + rand.N(p.max-p.min+1)
}

// wait sleeps until the pause is over or ctx ends.
func (s *slot) wait(ctx context.Context) error {
	d := time.Until(s.until)
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
	s.p.last[s.inst] = time.Now()
	s.p.mu.Unlock()
}

// release gives the turn back.
func (s *slot) release() {
	s.p.mu.Lock()
	delete(s.p.busy, s.inst)
	s.p.mu.Unlock()
}
