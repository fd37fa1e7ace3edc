package coretest

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Limiter is an in-memory ports.RateLimiter with fixed windows that start at
// a key's first hit, like ulule/limiter: Reached is true once the count is
// over the limit, so a Peek at exactly the limit shows Remaining 0 but not
// Reached.
type Limiter struct {
	Clock ports.Clock

	mu      sync.Mutex
	windows map[string]window
}

type window struct {
	start time.Time
	count int
}

var _ ports.RateLimiter = (*Limiter)(nil)

// NewLimiter returns a limiter whose windows follow clock.
func NewLimiter(clock ports.Clock) *Limiter {
	return &Limiter{Clock: clock, windows: map[string]window{}}
}

// Take counts one hit.
func (l *Limiter) Take(_ context.Context, key string, lim ports.Limit) (ports.RateResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, lim)
	w.count++
	l.windows[key] = w
	return result(w, lim), nil
}

// Peek reports the state without counting.
func (l *Limiter) Peek(_ context.Context, key string, lim ports.Limit) (ports.RateResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return result(l.current(key, lim), lim), nil
}

// Reset clears the counter.
func (l *Limiter) Reset(_ context.Context, key string, _ ports.Limit) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
	return nil
}

// current returns the key's live window, a fresh one when the last has
// passed.
func (l *Limiter) current(key string, lim ports.Limit) window {
	now := l.Clock.Now()
	w, ok := l.windows[key]
	if !ok || !now.Before(w.start.Add(lim.Period)) {
		return window{start: now}
	}
	return w
}

func result(w window, lim ports.Limit) ports.RateResult {
	return ports.RateResult{
		Limit:     lim.Count,
		Remaining: max(0, lim.Count-w.count),
		Reset:     w.start.Add(lim.Period),
		Reached:   w.count > lim.Count,
	}
}
