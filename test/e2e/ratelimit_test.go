package e2e

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
)

func TestAuthRateLimitPerIP(t *testing.T) {
	t.Parallel()
	eachBackend(t, map[string]string{"WAGATE_AUTH_RATE_PER_MIN": "5"}, databases, func(t *testing.T, s *server) {
		body := map[string]any{"email": unique("nobody") + "@example.com", "password": "whatever-it-is"}
		for i := range 5 {
			r := s.do(t, "POST", "/api/v1/auth/login", "", body)
			wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
			if got, want := r.Header.Get("RateLimit-Remaining"), strconv.Itoa(4-i); got != want {
				t.Errorf("got RateLimit-Remaining %q on auth request %d, want %q", got, i+1, want)
			}
		}
		r := s.do(t, "POST", "/api/v1/auth/login", "", body)
		wantRateLimited(t, r, 5)
		// The limit covers every /auth route of the address.
		wantRateLimited(t, s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{
			"email": unique("late") + "@example.com", "password": defaultPassword, "name": "Late",
		}), 5)
		wantRateLimited(t, s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": "x"}), 5)
		// Other routes are not counted against it.
		wantStatus(t, s.do(t, "GET", "/healthz", "", nil), http.StatusOK)
	})
}

func TestAccountRateLimits(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_TIERS": "basic=5:20,pro=20:3000,max=40:6000"}
	eachBackend(t, env, []backend{sqlite, postgres, postgresRedis}, func(t *testing.T, s *server) {
		t.Run("login brute force", func(t *testing.T) {
			t.Parallel()
			a, other := s.register(t), s.register(t)
			for i := range 10 {
				r := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": "wrong guess " + strconv.Itoa(i)})
				wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
			}
			r := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": a.Password})
			wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
			wantRetryAfter(t, r, 15*60)
			// The lock is per account: others still log in.
			s.login(t, other.Email, other.Password)
			// Issued tokens are not affected.
			wantStatus(t, s.do(t, "GET", "/api/v1/me", a.Access, nil), http.StatusOK)
		})

		t.Run("parallel login guesses", func(t *testing.T) {
			t.Parallel()
			a := s.register(t)
			statuses := make(chan int, 30)
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Go(func() {
					r := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": "parallel guess " + strconv.Itoa(i)})
					statuses <- r.Status
				})
			}
			wg.Wait()
			close(statuses)
			counts := map[int]int{}
			for st := range statuses {
				counts[st]++
			}
			if counts[http.StatusUnauthorized] > 10 || counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 30 {
				t.Fatalf("got statuses %v for 30 parallel wrong passwords, want at most 10 401 and the rest 429", counts)
			}
		})

		t.Run("per-subscription API rate", func(t *testing.T) {
			t.Parallel()
			a, other := s.register(t), s.register(t)
			for i := range 20 {
				r := s.do(t, "GET", "/api/v1/instances", a.Access, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("%s: got %d on API request %d of 20, want 200", r, r.Status, i+1)
				}
			}
			wantRateLimited(t, s.do(t, "GET", "/api/v1/instances", a.Access, nil), 20)
			wantRateLimited(t, s.do(t, "GET", "/api/v1/me", a.Access, nil), 20)
			wantStatus(t, s.do(t, "GET", "/api/v1/instances", other.Access, nil), http.StatusOK)
		})
	})
}

// wantRateLimited checks a 429 with Retry-After and the rate-limit headers.
func wantRateLimited(t *testing.T, r *response, limit int) {
	t.Helper()
	wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, r, 60)
	for _, prefix := range []string{"", "X-"} {
		if got := r.Header.Get(prefix + "RateLimit-Limit"); got != strconv.Itoa(limit) {
			t.Errorf("%s %s: got %sRateLimit-Limit %q, want %d", r.Method, r.Path, prefix, got, limit)
		}
		if got := r.Header.Get(prefix + "RateLimit-Remaining"); got != "0" {
			t.Errorf("%s %s: got %sRateLimit-Remaining %q, want 0", r.Method, r.Path, prefix, got)
		}
		if got := r.Header.Get(prefix + "RateLimit-Reset"); got == "" {
			t.Errorf("%s %s: got no %sRateLimit-Reset, want one", r.Method, r.Path, prefix)
		}
	}
}

// wantRetryAfter checks Retry-After is a number of seconds in (0, max].
func wantRetryAfter(t *testing.T, r *response, max int) {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n <= 0 || n > max {
		t.Errorf("%s %s: got Retry-After %q, want seconds in (0, %d]", r.Method, r.Path, r.Header.Get("Retry-After"), max)
	}
}
