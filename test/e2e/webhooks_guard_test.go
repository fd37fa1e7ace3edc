package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebhookGuardAtDialTime: the SSRF guard holds when a request is made,
// not only when the endpoint is saved. An endpoint whose host name
// resolves to loopback ("localhost", from the hosts file: no DNS, no
// public address) is saved while private targets are allowed; the server
// restarts on the same data without WAGATE_WEBHOOK_ALLOW_PRIVATE, and
// every attempt is refused before a connection is made, as it would be
// after a DNS rebinding.
func TestWebhookGuardAtDialTime(t *testing.T) {
	env := map[string]string{
		"WAGATE_JWT_SECRET":        jwtSecret,
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_AUTH_RATE_PER_MIN": "100000",
		"WAGATE_WHATSAPP":          "sandbox",
		"WAGATE_WEBHOOK_SCHEDULE":  webhookSchedule,
		"WAGATE_DATA_DIR":          t.TempDir(),
	}
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	lax := startOwned(t, "sqlite, private targets allowed", env)
	a := lax.register(t)
	inst := str(lax.createInstance(t, a.Access, "guarded"), "id")
	id, _ := createWebhook(t, lax, a.Access, inst, map[string]any{"url": "https://localhost:8443/hook", "events": []string{"*"}})
	lax.stop(t)

	delete(env, "WAGATE_WEBHOOK_ALLOW_PRIVATE")
	s := startOwned(t, "sqlite, strict", env)
	token, _ := s.login(t, a.Email, a.Password)
	rc := newRecorder(t, nil)
	// Saving such a target is refused now, whatever its spelling.
	for _, url := range []string{rc.srv.URL + "/hook", "https://localhost/hook", "https://localhost:8443/hook"} {
		r := s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", token, map[string]any{"url": url, "events": []string{"*"}})
		wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		wantFieldError(t, r, "url")
		r = s.do(t, "PATCH", hookPath(inst, id), token, map[string]any{"url": url})
		wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	}
	// The endpoint saved before is refused at every attempt, and the
	// log does not tell the tenant which address it resolved to.
	evt := testEvent(t, s, token, inst, id)
	d := waitDelivery(t, s, token, inst, id, evt, statusAttempts("dead", 3))
	if str(d, "lastError") != "refused by the SSRF guard" || num(d, "lastStatusCode") != 0 {
		t.Errorf("got %v, want each attempt refused by the guard, without an answer", d)
	}
	if strings.Contains(str(d, "lastError"), "127.0.0.1") || strings.Contains(str(d, "lastError"), "::1") {
		t.Errorf("got last error %q, want no internal address in it", str(d, "lastError"))
	}
	if got := rc.snapshot(); len(got) != 0 {
		t.Errorf("the loopback receiver got %d requests, want none", len(got))
	}
}
