package ports

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRetryFor(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want RetryDecision
	}{
		{"success", nil, RetryDecision{}},
		{"unavailable", Errorf(EUnavailable, "down"), RetryDecision{Retry: true, CountsAsFailure: true}},
		{"internal", Errorf(EInternal, "bug"), RetryDecision{Retry: true, CountsAsFailure: true}},
		{"plain error", errors.New("boom"), RetryDecision{Retry: true, CountsAsFailure: true}},
		{"rate limited", &Error{Code: ERateLimited, RetryAfter: 3 * time.Second}, RetryDecision{Retry: true, After: 3 * time.Second}},
		{"rate limited, no hint", Errorf(ERateLimited, "slow down"), RetryDecision{Retry: true}},
		{"wrapped rate limit", fmt.Errorf("send: %w", &Error{Code: ERateLimited, RetryAfter: time.Second}), RetryDecision{Retry: true, After: time.Second}},
		{"invalid", Errorf(EInvalid, "bad"), RetryDecision{}},
		{"not found", Errorf(ENotFound, "gone"), RetryDecision{}},
		{"conflict", Errorf(EConflict, "clash"), RetryDecision{}},
		{"forbidden", Errorf(EForbidden, "no"), RetryDecision{}},
		{"unauthorized", Errorf(EUnauthorized, "who"), RetryDecision{}},
		{"too large", Errorf(ETooLarge, "big"), RetryDecision{}},
		{"unsupported", Errorf(EUnsupported, "odd"), RetryDecision{}},
	}
	for _, tc := range tests {
		if got := RetryFor(tc.err); got != tc.want {
			t.Errorf("RetryFor(%s): got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, base := range map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second,
		11: 10 * time.Minute, 1000: 10 * time.Minute,
	} {
		got := DefaultBackoff(attempt)
		if got < base || got > base+base/5 {
			t.Errorf("DefaultBackoff(%d): got %v, want %v plus up to 20%%", attempt, got, base)
		}
	}
}

func TestJobValidate(t *testing.T) {
	long := string(make([]byte, MaxJobIDLen+1))
	for _, j := range []Job{{Type: "t"}, {ID: "i"}, {ID: long, Type: "t"}, {ID: "i", Type: "t", MaxAttempts: -1}} {
		if err := j.Validate(); !IsCode(err, EInvalid) {
			t.Errorf("Validate(%+v): got %v, want %s", j, err, EInvalid)
		}
	}
	if err := (Job{ID: "i", Type: "t"}).Validate(); err != nil {
		t.Errorf("Validate of a valid job: got %v, want nil", err)
	}
}
