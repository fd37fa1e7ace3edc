package asynqueue

import (
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// The Redis behaviour is covered by test/queuetest; these check the pieces
// that asynq calls back.

func TestRetryDelay(t *testing.T) {
	backoff := func(attempt int) time.Duration { return time.Duration(attempt) * 1500 * time.Millisecond }
	delay := retryDelay(backoff)
	tests := []struct {
		name    string
		n       int
		err     error
		atLeast time.Duration
	}{
		{"first failure uses backoff(1)", 0, ports.Errorf(ports.EUnavailable, "down"), 1500 * time.Millisecond},
		{"third failure uses backoff(3)", 2, ports.Errorf(ports.EUnavailable, "down"), 4500 * time.Millisecond},
		{"rate limit uses RetryAfter", 0, &ports.Error{Code: ports.ERateLimited, RetryAfter: 5 * time.Second}, 5 * time.Second},
	}
	for _, tc := range tests {
		now := time.Now()
		d := delay(tc.n, tc.err, nil)
		at := time.Now().Add(d) // asynq adds d to its own, later, now
		if d < tc.atLeast || d > tc.atLeast+time.Second {
			t.Errorf("%s: got %v, want %v rounded up to a whole second", tc.name, d, tc.atLeast)
		}
		// asynq truncates to Unix seconds: the target must not fall
		// before now+want once truncated.
		if sec := time.Unix(at.Unix(), 0); sec.Before(now.Add(tc.atLeast)) {
			t.Errorf("%s: retry at %v truncates to %v, before %v", tc.name, at, sec, now.Add(tc.atLeast))
		}
	}
}

func TestCeilSecond(t *testing.T) {
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[time.Time]time.Time{
		base:                             base,
		base.Add(time.Nanosecond):        base.Add(time.Second),
		base.Add(999 * time.Millisecond): base.Add(time.Second),
	} {
		if got := ceilSecond(in); !got.Equal(want) {
			t.Errorf("ceilSecond(%v): got %v, want %v", in, got, want)
		}
	}
}
