package webhooks

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/wagate/wagate/ports"
)

// Schedule is the delay before each attempt of a delivery: Schedule[0]
// before the first, Schedule[i] before attempt i+1 (after i failed ones).
// When every step is used the delivery is dead. It is configurable so that
// tests can shrink it.
type Schedule []time.Duration

// DefaultSchedule returns the retry schedule of SPEC §9: immediately, then
// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; eight attempts over about
// 28 hours. It returns a new slice each time, so callers may change it.
func DefaultSchedule() Schedule {
	return Schedule{
		0,
		5 * time.Second,
		5 * time.Minute,
		30 * time.Minute,
		2 * time.Hour,
		5 * time.Hour,
		10 * time.Hour,
		10 * time.Hour,
	}
}

// jitter is the spread of each delay, ±10%, so that deliveries that failed
// together (a receiver's outage) do not all come back in the same second.
const jitter = 0.10

// Validate returns EInvalid for an empty schedule or a negative delay.
func (s Schedule) Validate() error {
	if len(s) == 0 {
		return ports.InvalidFields(ports.FieldError{Field: "schedule", Message: "must have at least one step"})
	}
	for i, d := range s {
		if d < 0 {
			return ports.InvalidFields(ports.FieldError{
				Field:   fmt.Sprintf("schedule[%d]", i),
				Message: "must not be negative",
			})
		}
	}
	return nil
}

// NextAttempt returns when the next attempt of a delivery runs, given the
// attempts made so far (0 for a new delivery; a negative count is taken as
// 0): now plus the schedule's step for it, spread by ±10% using rnd, which
// returns values in [0, 1) like rand.Float64 (nil means rand.Float64). It
// returns false when the schedule is used up: the delivery is dead.
func NextAttempt(s Schedule, attempts int, now time.Time, rnd func() float64) (time.Time, bool) {
	attempts = max(attempts, 0)
	if attempts >= len(s) {
		return time.Time{}, false
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	return now.Add(jittered(s[attempts], rnd())), true
}

// jittered spreads d over [0.9d, 1.1d] as r goes over [0, 1]; r outside
// that range is clamped so that a bad source cannot stretch the schedule.
func jittered(d time.Duration, r float64) time.Duration {
	r = min(max(r, 0), 1)
	return time.Duration(float64(d) * (1 - jitter + 2*jitter*r))
}

// RetryAt is when a delivery whose attempt ended in o runs again: the
// schedule's next step (see NextAttempt), or later if the receiver asked
// for more time with Retry-After (o.After). A Retry-After never brings an
// attempt forward, so a receiver answering "Retry-After: 1" cannot use up
// the schedule in seconds. False means the delivery is dead.
func RetryAt(s Schedule, attempts int, o Outcome, now time.Time, rnd func() float64) (time.Time, bool) {
	next, ok := NextAttempt(s, attempts, now, rnd)
	if !ok {
		return time.Time{}, false
	}
	if asked := now.Add(o.After); asked.After(next) {
		next = asked
	}
	return next, true
}
