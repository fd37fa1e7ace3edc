package e2e

import (
	"net/http"
	"testing"
)

const (
	adminEmail    = "root@example.com"
	adminPassword = "admin passphrase 123"
)

func TestAdmin(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"WAGATE_BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
		"WAGATE_BOOTSTRAP_ADMIN_PASSWORD": adminPassword,
	}
	eachBackend(t, env, databases, func(t *testing.T, s *server) {
		admin, _ := s.login(t, adminEmail, adminPassword)
		owner := s.register(t)
		s.register(t)

		t.Run("list subscriptions", func(t *testing.T) {
			seen := map[string]map[string]any{}
			path := "/api/v1/admin/subscriptions?limit=1"
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("got more than 10 pages of one subscription, want about 3")
				}
				data, next := list(t, s.do(t, "GET", path, admin, nil))
				if len(data) != 1 {
					t.Fatalf("got %d subscriptions with limit=1, want 1", len(data))
				}
				wantKeys(t, "subscription", data[0], "id", "tier", "instanceLimit", "instancesUsed")
				seen[str(data[0], "id")] = data[0]
				if next == "" {
					break
				}
				path = "/api/v1/admin/subscriptions?limit=1&cursor=" + next
			}
			if len(seen) < 3 {
				t.Errorf("got %d distinct subscriptions, want at least 3 (admin and two owners)", len(seen))
			}
			if sub, ok := seen[owner.SubID]; !ok || str(sub, "tier") != "basic" {
				t.Errorf("got owner's subscription %v, want it listed on tier basic", sub)
			}
		})

		t.Run("change tier", func(t *testing.T) {
			r := s.do(t, "PATCH", "/api/v1/admin/subscriptions/"+owner.SubID, admin, map[string]any{"tier": "pro"})
			wantStatus(t, r, http.StatusOK)
			if str(r.JSON, "id") != owner.SubID || str(r.JSON, "tier") != "pro" || num(r.JSON, "instanceLimit") != 20 {
				t.Errorf("got %s, want the owner's subscription on pro with instanceLimit 20", r)
			}
			sub := s.subscription(t, owner.Access)
			if str(sub, "tier") != "pro" || num(sub, "instanceLimit") != 20 {
				t.Errorf("got the owner's /me subscription %v, want tier pro and instanceLimit 20", sub)
			}
			for range 6 {
				s.createInstance(t, owner.Access, unique("pro"))
			}
		})

		t.Run("bad tier", func(t *testing.T) {
			for _, tier := range []string{"gold", "", "PRO"} {
				wantFieldError(t, s.do(t, "PATCH", "/api/v1/admin/subscriptions/"+owner.SubID, admin, map[string]any{"tier": tier}), "tier")
			}
		})

		t.Run("unknown subscription", func(t *testing.T) {
			for _, id := range []string{"00000000-0000-7000-8000-000000000000", "abc"} {
				wantProblem(t, s.do(t, "PATCH", "/api/v1/admin/subscriptions/"+id, admin, map[string]any{"tier": "pro"}), http.StatusNotFound, "not_found")
			}
		})

		t.Run("owners are forbidden", func(t *testing.T) {
			wantProblem(t, s.do(t, "GET", "/api/v1/admin/subscriptions", owner.Access, nil), http.StatusForbidden, "forbidden")
			wantProblem(t, s.do(t, "PATCH", "/api/v1/admin/subscriptions/"+owner.SubID, owner.Access, map[string]any{"tier": "max"}), http.StatusForbidden, "forbidden")
			if got := str(s.subscription(t, owner.Access), "tier"); got == "max" {
				t.Errorf("got tier max after the owner's own attempt, want it unchanged")
			}
		})

		t.Run("no token", func(t *testing.T) {
			wantUnauthorized(t, s.do(t, "GET", "/api/v1/admin/subscriptions", "", nil), "unauthorized")
		})
	})
}
