package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	t.Parallel()
	// Private targets allowed: the webhook below points at loopback.
	eachBackend(t, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"}, databases, func(t *testing.T, s *server) {
		a := s.register(t)
		const wrongPassword = "guessing-wrong-42"
		const newPassword = "the second passphrase"

		access, refresh := s.login(t, a.Email, a.Password)
		wantProblem(t, s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": wrongPassword}), http.StatusUnauthorized, "invalid_credentials")
		inst := str(s.createInstance(t, access, "audited"), "id")
		keyID, key := s.createKey(t, access, inst, map[string]any{"name": "audited key"})
		wantStatus(t, s.do(t, "DELETE", "/api/v1/instances/"+inst+"/api-keys/"+keyID, access, nil), http.StatusNoContent)
		const hookToken = "hook-token-in-the-url"
		wantStatus(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", access, map[string]any{
			"url": "http://127.0.0.1:9/in?token=" + hookToken + "#" + hookToken, "events": []string{"*"},
		}), http.StatusCreated)
		wantStatus(t, s.do(t, "POST", "/api/v1/auth/password", access, map[string]any{"currentPassword": a.Password, "newPassword": newPassword}), http.StatusNoContent)
		latest, latestRefresh := s.login(t, a.Email, newPassword)

		r := s.do(t, "GET", "/api/v1/audit-logs?limit=200", latest, nil)
		entries, _ := list(t, r)
		for _, secret := range []string{a.Password, newPassword, wrongPassword, key, a.Access, a.Refresh, access, refresh, latest, latestRefresh, hookToken} {
			if strings.Contains(string(r.Body), secret) {
				t.Errorf("the audit log contains a secret (%.12s…)", secret)
			}
		}

		var actions []string
		for _, e := range entries {
			wantKeys(t, "audit entry", e, "id", "at", "action", "actorUserId", "actorApiKeyId", "targetType", "targetId", "ip", "userAgent", "details", "actor")
			actions = append(actions, str(e, "action"))
		}
		for _, want := range []struct {
			what  string
			match func(action string) bool
		}{
			{"a login", func(a string) bool { return has(a, "login") && !has(a, "fail") }},
			{"a failed login", func(a string) bool { return has(a, "login") && has(a, "fail") }},
			{"an instance creation", func(a string) bool { return has(a, "instance") && has(a, "creat") }},
			{"a key creation", func(a string) bool { return has(a, "key") && has(a, "creat") }},
			{"a key deletion", func(a string) bool { return has(a, "key") && (has(a, "delet") || has(a, "revok")) }},
			{"a password change", func(a string) bool { return has(a, "password") }},
		} {
			e := find(entries, want.match)
			if e == nil {
				t.Errorf("got actions %q, want %s among them", actions, want.what)
				continue
			}
			if str(e, "ip") != "127.0.0.1" || str(e, "userAgent") != userAgent {
				t.Errorf("got %s recorded from ip %q agent %q, want 127.0.0.1 and %q", want.what, str(e, "ip"), str(e, "userAgent"), userAgent)
			}
			wantUTCTime(t, "at", e["at"])
		}
		if e := find(entries, func(a string) bool { return has(a, "instance") && has(a, "creat") }); e != nil {
			if str(e, "targetId") != inst || str(e, "actorUserId") != a.UserID {
				t.Errorf("got instance creation entry %v, want target %s by %s", e, inst, a.UserID)
			}
		}
		if e := find(entries, func(a string) bool { return has(a, "key") && has(a, "creat") }); e != nil && str(e, "targetId") != keyID {
			t.Errorf("got key creation entry %v, want target %s", e, keyID)
		}

		if e := find(entries, func(a string) bool { return a == "webhook.created" }); e == nil || str(obj(t, e, "details"), "url") != "http://127.0.0.1:9/in" {
			t.Errorf("got webhook.created entry %v, want its url without query and fragment", e)
		}

		// Newest first.
		for i := 1; i < len(entries); i++ {
			prev, _ := time.Parse(time.RFC3339Nano, str(entries[i-1], "at"))
			cur, _ := time.Parse(time.RFC3339Nano, str(entries[i], "at"))
			if cur.After(prev) {
				t.Errorf("got entry %d at %s after entry %d at %s, want newest first", i, cur, i-1, prev)
			}
		}

		page, next := list(t, s.do(t, "GET", "/api/v1/audit-logs?limit=2", latest, nil))
		if len(page) != 2 || next == "" {
			t.Errorf("got %d entries and nextCursor %q with limit=2, want 2 and a cursor", len(page), next)
		}

		// Another tenant sees none of it.
		b := s.register(t)
		others, _ := list(t, s.do(t, "GET", "/api/v1/audit-logs?limit=200", b.Access, nil))
		for _, e := range others {
			if str(e, "actorUserId") == a.UserID || str(e, "targetId") == inst {
				t.Errorf("got A's entry %v in B's audit log", e)
			}
		}
	})
}

func has(s, sub string) bool { return strings.Contains(strings.ToLower(s), sub) }

func find(entries []map[string]any, match func(action string) bool) map[string]any {
	for _, e := range entries {
		if match(str(e, "action")) {
			return e
		}
	}
	return nil
}
