package webhooks_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

func fixed(r float64) func() float64 { return func() float64 { return r } }

func TestDefaultSchedule(t *testing.T) {
	want := webhooks.Schedule{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	got := webhooks.DefaultSchedule()
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v (SPEC §9)", got, want)
	}
	got[0] = time.Hour
	if again := webhooks.DefaultSchedule(); again[0] != 0 {
		t.Errorf("after changing a returned schedule got first step %v, want 0", again[0])
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name string
		s    webhooks.Schedule
		ok   bool
	}{
		{"default", webhooks.DefaultSchedule(), true},
		{"shrunk for tests", webhooks.Schedule{0, 10 * time.Millisecond, 20 * time.Millisecond}, true},
		{"one step", webhooks.Schedule{0}, true},
		{"empty", webhooks.Schedule{}, false},
		{"nil", nil, false},
		{"negative step", webhooks.Schedule{0, -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.ok && err != nil {
				t.Errorf("got %v, want nil", err)
			}
			if !tt.ok && !ports.IsCode(err, ports.EInvalid) {
				t.Errorf("got %v, want EInvalid", err)
			}
		})
	}
}

func TestNextAttempt(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	def := webhooks.DefaultSchedule()
	short := webhooks.Schedule{0, 100 * time.Millisecond, time.Second}
	tests := []struct {
		name     string
		s        webhooks.Schedule
		attempts int
		rnd      float64
		want     time.Duration // from now
		dead     bool
	}{
		{"new delivery runs now", def, 0, 0.5, 0, false},
		{"zero step has no jitter", def, 0, 0.99, 0, false},
		{"negative count is a new delivery", def, -3, 0.5, 0, false},
		{"after 1 failure: 5 s", def, 1, 0.5, 5 * time.Second, false},
		{"after 2: 5 min", def, 2, 0.5, 5 * time.Minute, false},
		{"after 3: 30 min", def, 3, 0.5, 30 * time.Minute, false},
		{"after 4: 2 h", def, 4, 0.5, 2 * time.Hour, false},
		{"after 5: 5 h", def, 5, 0.5, 5 * time.Hour, false},
		{"after 6: 10 h", def, 6, 0.5, 10 * time.Hour, false},
		{"after 7: 10 h", def, 7, 0.5, 10 * time.Hour, false},
		{"after 8: dead", def, 8, 0.5, 0, true},
		{"far past the end: dead", def, 100, 0.5, 0, true},
		{"jitter low end -10%", def, 4, 0, 108 * time.Minute, false},
		{"jitter high end +10%", def, 4, 1, 132 * time.Minute, false},
		{"jitter +5%", def, 1, 0.75, 5250 * time.Millisecond, false},
		{"source below 0 clamped", def, 4, -7, 108 * time.Minute, false},
		{"source above 1 clamped", def, 4, 42, 132 * time.Minute, false},
		{"shrunk schedule", short, 1, 0.5, 100 * time.Millisecond, false},
		{"shrunk schedule, last step", short, 2, 0, 900 * time.Millisecond, false},
		{"shrunk schedule, dead", short, 3, 0.5, 0, true},
		{"empty schedule: dead at once", webhooks.Schedule{}, 0, 0.5, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := webhooks.NextAttempt(tt.s, tt.attempts, now, fixed(tt.rnd))
			if ok == tt.dead {
				t.Fatalf("got ok %v, want %v", ok, !tt.dead)
			}
			if tt.dead {
				if !got.IsZero() {
					t.Errorf("got %v for a dead delivery, want the zero time", got)
				}
				return
			}
			if d := got.Sub(now); d != tt.want {
				t.Errorf("got now+%v, want now+%v", d, tt.want)
			}
		})
	}
}

// TestNextAttemptJitterRange draws from real sources: every delay stays
// within ±10% of its step, and the draws spread rather than repeat.
func TestNextAttemptJitterRange(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := webhooks.DefaultSchedule()
	seeded := rand.New(rand.NewPCG(1, 2))
	for name, rnd := range map[string]func() float64{"seeded": seeded.Float64, "nil (default source)": nil} {
		t.Run(name, func(t *testing.T) {
			for attempts := 1; attempts < len(s); attempts++ {
				step := s[attempts]
				lo, hi := step-step/10, step+step/10
				seen := map[time.Duration]bool{}
				for range 200 {
					at, ok := webhooks.NextAttempt(s, attempts, now, rnd)
					if !ok {
						t.Fatalf("attempts %d: got dead, want a retry", attempts)
					}
					d := at.Sub(now)
					if d < lo || d > hi {
						t.Fatalf("attempts %d: got %v, want within [%v, %v]", attempts, d, lo, hi)
					}
					seen[d] = true
				}
				if len(seen) < 100 {
					t.Errorf("attempts %d: got %d distinct delays in 200 draws, want them spread", attempts, len(seen))
				}
			}
		})
	}
}

func TestRetryAt(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	def := webhooks.DefaultSchedule()
	tests := []struct {
		name     string
		attempts int
		after    time.Duration
		want     time.Duration
		dead     bool
	}{
		{"no Retry-After: the schedule", 1, 0, 5 * time.Second, false},
		{"Retry-After longer than the step wins", 1, 2 * time.Minute, 2 * time.Minute, false},
		{"Retry-After shorter than the step is ignored", 3, 2 * time.Minute, 30 * time.Minute, false},
		{"Retry-After on a new delivery", 0, 30 * time.Second, 30 * time.Second, false},
		{"Retry-After does not revive a dead delivery", 8, time.Minute, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := webhooks.Outcome{Kind: webhooks.Retry, After: tt.after}
			got, ok := webhooks.RetryAt(def, tt.attempts, o, now, fixed(0.5))
			if ok == tt.dead {
				t.Fatalf("got ok %v, want %v", ok, !tt.dead)
			}
			if !tt.dead && got.Sub(now) != tt.want {
				t.Errorf("got now+%v, want now+%v", got.Sub(now), tt.want)
			}
		})
	}
}
