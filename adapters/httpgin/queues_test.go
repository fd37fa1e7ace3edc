package httpgin

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wagate/wagate/core/tenancy"
)

// fakeMonitor stands in for asynqmon: it records what reached it and
// answers with the path it was asked.
type fakeMonitor struct {
	mu      sync.Mutex
	methods []string
}

func (f *fakeMonitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.methods = append(f.methods, r.Method)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("monitor " + r.URL.Path))
}

func (f *fakeMonitor) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.methods)
}

// queueEnv is an engine with the fake monitor mounted, an admin and an
// owner.
func queueEnv(t *testing.T) (e *testEnv, mon *fakeMonitor, admin, owner string) {
	t.Helper()
	mon = &fakeMonitor{}
	e = newTestEnv(t, Options{QueueUI: mon})
	owner, _ = e.account("owner@example.com")
	if _, err := e.tenancy.CreateUser(context.Background(), tenancy.CreateUserCmd{
		Email: "admin@example.com", Password: "admin password", Name: "Op", Admin: true,
	}); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	w := e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"admin@example.com","password":"admin password"}`})
	var login struct {
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, w, &login)
	return e, mon, login.Tokens.AccessToken, owner
}

func TestQueueUIAbsentWithoutRedis(t *testing.T) {
	e := newTestEnv(t, Options{})
	for _, path := range []string{"/admin/queues", "/admin/queues/api/queues"} {
		wantProblem(t, e.do(req{method: "GET", path: path}), http.StatusNotFound, "not_found")
	}
}

func TestQueueUIAuth(t *testing.T) {
	e, mon, admin, owner := queueEnv(t)

	w := e.do(req{method: "GET", path: "/admin/queues"})
	wantProblem(t, w, http.StatusUnauthorized, "unauthorized")
	if w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("got no WWW-Authenticate on 401, want a Bearer challenge")
	}
	wantProblem(t, e.do(req{method: "GET", path: "/admin/queues", token: "not-a-token"}), http.StatusUnauthorized, "unauthorized")
	wantProblem(t, e.do(req{method: "GET", path: "/admin/queues/api/queues", token: owner}), http.StatusForbidden, "forbidden")
	wantProblem(t, e.do(req{method: "GET", path: "/admin/queues", token: "wag_somekey"}), http.StatusForbidden, "forbidden")
	if n := mon.calls(); n != 0 {
		t.Fatalf("got %d requests at the monitor, want none before an admin", n)
	}

	for _, path := range []string{"/admin/queues", "/admin/queues/", "/admin/queues/api/queues"} {
		w := e.do(req{method: "GET", path: path, token: admin})
		if w.Code != http.StatusOK || w.Body.String() != "monitor "+path {
			t.Errorf("GET %s as admin: got %d %q, want 200 from the monitor", path, w.Code, w.Body)
		}
	}
}

func TestQueueUICookieFlow(t *testing.T) {
	e, mon, admin, owner := queueEnv(t)

	// An owner's token in the query is not turned into a cookie.
	w := e.do(req{method: "GET", path: "/admin/queues?access_token=" + owner})
	wantProblem(t, w, http.StatusForbidden, "forbidden")
	if c := w.Header().Get("Set-Cookie"); c != "" {
		t.Fatalf("got Set-Cookie %q for an owner, want none", c)
	}

	w = e.do(req{method: "GET", path: "/admin/queues/queues/x?tab=1&access_token=" + admin})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/queues/queues/x?tab=1" {
		t.Fatalf("got %d Location %q, want 303 to the URL without the token", w.Code, w.Header().Get("Location"))
	}
	cookie := w.Header().Get("Set-Cookie")
	for _, want := range []string{queueUICookie + "=" + admin, "Path=/admin/queues", "HttpOnly", "SameSite=Strict", "Max-Age="} {
		if !strings.Contains(cookie, want) {
			t.Errorf("got Set-Cookie %q, want it to contain %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("got Set-Cookie %q over plain HTTP, want no Secure", cookie)
	}
	if strings.Contains(e.logs.String(), admin) {
		t.Errorf("got the access token in the log, want it never logged")
	}
	if n := mon.calls(); n != 0 {
		t.Fatalf("got %d requests at the monitor, want the redirect to answer", n)
	}

	// The UI's own requests carry the cookie.
	w = e.do(req{method: "GET", path: "/admin/queues/api/queues", header: map[string]string{"Cookie": queueUICookie + "=" + admin}})
	if w.Code != http.StatusOK || w.Body.String() != "monitor /admin/queues/api/queues" {
		t.Fatalf("with the cookie: got %d %q, want 200 from the monitor", w.Code, w.Body)
	}
	// An owner's token in the cookie gets nothing.
	wantProblem(t, e.do(req{method: "GET", path: "/admin/queues", header: map[string]string{"Cookie": queueUICookie + "=" + owner}}),
		http.StatusForbidden, "forbidden")
	// A stale cookie is refused and cleared.
	w = e.do(req{method: "GET", path: "/admin/queues", header: map[string]string{"Cookie": queueUICookie + "=expired"}})
	wantProblem(t, w, http.StatusUnauthorized, "unauthorized")
	if c := w.Header().Get("Set-Cookie"); !strings.Contains(c, queueUICookie+"=;") || !strings.Contains(c, "Max-Age=0") {
		t.Errorf("got Set-Cookie %q, want the cookie cleared", c)
	}
}

func TestQueueUISecureCookieOverTLS(t *testing.T) {
	mon := &fakeMonitor{}
	e := newTestEnv(t, Options{QueueUI: mon, TLS: true})
	if _, err := e.tenancy.CreateUser(context.Background(), tenancy.CreateUserCmd{
		Email: "admin@example.com", Password: "admin password", Name: "Op", Admin: true,
	}); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	var login struct {
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"admin@example.com","password":"admin password"}`}), &login)
	w := e.do(req{method: "GET", path: "/admin/queues?access_token=" + login.Tokens.AccessToken})
	if c := w.Header().Get("Set-Cookie"); w.Code != http.StatusSeeOther || !strings.Contains(c, "Secure") {
		t.Fatalf("got %d Set-Cookie %q, want 303 and a Secure cookie", w.Code, c)
	}
}

func TestQueueUIReadOnly(t *testing.T) {
	e, mon, admin, _ := queueEnv(t)
	for _, method := range []string{"POST", "DELETE", "PUT", "PATCH"} {
		w := e.do(req{method: method, path: "/admin/queues/api/queues/wagate:send:pause", token: admin})
		wantProblem(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
		if allow := w.Header().Get("Allow"); allow != "GET" {
			t.Errorf("%s: got Allow %q, want GET", method, allow)
		}
	}
	if n := mon.calls(); n != 0 {
		t.Fatalf("got %d requests at the monitor, want no change to reach it", n)
	}
}

func TestQueueUICSP(t *testing.T) {
	e, _, admin, _ := queueEnv(t)
	w := e.do(req{method: "GET", path: "/admin/queues", token: admin})
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' 'unsafe-inline'", "frame-ancestors 'none'", "connect-src 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("got CSP %q on the monitor, want it to contain %q", csp, want)
		}
	}
	if w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("got X-Frame-Options %q, want DENY", w.Header().Get("X-Frame-Options"))
	}
	// Refusals under the monitor and every other route keep the strict policy's
	// frame-ancestors; the API routes keep the strict policy itself.
	if csp := e.do(req{method: "GET", path: "/admin/queues"}).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("got CSP %q on a refused monitor request, want frame-ancestors 'none'", csp)
	}
	for _, path := range []string{"/healthz", "/api/v1/me", "/openapi.json"} {
		if csp := e.do(req{method: "GET", path: path, token: admin}).Header().Get("Content-Security-Policy"); csp != jsonCSP {
			t.Errorf("GET %s: got CSP %q, want the strict %q", path, csp, jsonCSP)
		}
	}
}
