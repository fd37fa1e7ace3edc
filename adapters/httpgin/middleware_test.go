package httpgin

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestRequestID(t *testing.T) {
	e := newTestEnv(t, Options{})
	tests := []struct {
		name, in string
		kept     bool
	}{
		{"sane", "abc-123_X.y:z", true},
		{"uuid", "0190d3c4-8f4e-7a6b-9c2d-1e2f3a4b5c6d", true},
		{"max length", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "abc def", false},
		{"newline", "abc\\nforged", false},
		{"slash", "a/b", false},
		{"absent", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "GET", path: "/healthz", header: map[string]string{HeaderRequestID: tt.in}})
			got := w.Header().Get(HeaderRequestID)
			if tt.kept && got != tt.in {
				t.Fatalf("got %q, want the incoming %q kept", got, tt.in)
			}
			if !tt.kept && (got == tt.in || !saneRequestID(got)) {
				t.Fatalf("got %q, want a fresh sane id replacing %q", got, tt.in)
			}
		})
	}
	a := e.do(req{method: "GET", path: "/healthz"}).Header().Get(HeaderRequestID)
	b := e.do(req{method: "GET", path: "/healthz"}).Header().Get(HeaderRequestID)
	if a == b {
		t.Fatalf("got the same generated id %q twice, want distinct ids", a)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newTestEnv(t, Options{})
	for _, path := range []string{"/healthz", "/nope", "/api/v1/me", "/openapi.json"} {
		w := e.do(req{method: "GET", path: path})
		want := map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": jsonCSP,
		}
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: got %s %q, want %q", path, k, got, v)
			}
		}
		if got := w.Header().Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: got HSTS %q without TLS, want none", path, got)
		}
	}
}

func TestHSTS(t *testing.T) {
	t.Run("configured", func(t *testing.T) {
		e := newTestEnv(t, Options{TLS: true})
		if got := e.do(req{method: "GET", path: "/healthz"}).Header().Get("Strict-Transport-Security"); got != hstsValue {
			t.Fatalf("got HSTS %q, want %q", got, hstsValue)
		}
	})
	t.Run("request over TLS", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.TLS = &tls.ConnectionState{}
		w := httptest.NewRecorder()
		e.engine.ServeHTTP(w, r)
		if got := w.Header().Get("Strict-Transport-Security"); got != hstsValue {
			t.Fatalf("got HSTS %q, want %q", got, hstsValue)
		}
	})
}

func TestDocsPage(t *testing.T) {
	e := newTestEnv(t, Options{})
	w := e.do(req{method: "GET", path: "/docs"})
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %q, want 200 text/html", w.Code, w.Header().Get("Content-Type"))
	}
	csp := w.Header().Get("Content-Security-Policy")
	m := regexp.MustCompile(`script-src 'nonce-([^']+)'`).FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("got CSP %q, want a script nonce", csp)
	}
	body := w.Body.String()
	if strings.Count(body, `nonce="`+m[1]+`"`) != 2 || strings.Contains(body, "{{NONCE}}") {
		t.Fatalf("got the page without the nonce %q on its script and style", m[1])
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Fatalf("got a page loading from another site, want it self-contained")
	}
	w2 := e.do(req{method: "GET", path: "/docs"})
	if w2.Header().Get("Content-Security-Policy") == csp {
		t.Fatalf("got the same nonce twice, want a fresh one per response")
	}
}

func TestCORS(t *testing.T) {
	const allowed = "https://app.example.com"
	e := newTestEnv(t, Options{CORSOrigins: []string{allowed}})

	t.Run("allowed origin", func(t *testing.T) {
		w := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": allowed}})
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != allowed {
			t.Fatalf("got Allow-Origin %q, want %q", got, allowed)
		}
		expose := w.Header().Get("Access-Control-Expose-Headers")
		for _, h := range []string{"X-Request-Id", "RateLimit-Remaining", "Retry-After"} {
			if !strings.Contains(expose, h) {
				t.Fatalf("got Expose-Headers %q, want %s in it", expose, h)
			}
		}
		if !strings.Contains(w.Header().Get("Vary"), "Origin") {
			t.Fatalf("got Vary %q, want Origin", w.Header().Get("Vary"))
		}
	})
	t.Run("other origin", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example.com", "https://app.example.com.evil.com", "null"} {
			w := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": origin}})
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("origin %s: got Allow-Origin %q, want none", origin, got)
			}
		}
	})
	t.Run("preflight allowed", func(t *testing.T) {
		w := e.do(req{method: "OPTIONS", path: "/api/v1/instances", header: map[string]string{
			"Origin": allowed, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization, content-type",
		}})
		if w.Code != http.StatusNoContent {
			t.Fatalf("got %d, want 204", w.Code)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != allowed {
			t.Fatalf("got Allow-Origin %q, want %q", got, allowed)
		}
		hdrs := w.Header().Get("Access-Control-Allow-Headers")
		for _, h := range []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"} {
			if !strings.Contains(hdrs, h) {
				t.Fatalf("got Allow-Headers %q, want %s in it", hdrs, h)
			}
		}
		if !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "PATCH") {
			t.Fatalf("got Allow-Methods %q, want PATCH in it", w.Header().Get("Access-Control-Allow-Methods"))
		}
	})
	t.Run("preflight other origin", func(t *testing.T) {
		w := e.do(req{method: "OPTIONS", path: "/api/v1/instances", header: map[string]string{
			"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST",
		}})
		if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("got %d with Allow-Origin %q, want 204 without CORS headers", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("no origins configured", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		w := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": allowed}})
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("got Allow-Origin %q, want none", got)
		}
	})
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newTestEnv(t, Options{})
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/nothing"}), 404, "not_found")
	wantProblem(t, e.do(req{method: "GET", path: "/healthz/"}), 404, "not_found")
	w := e.do(req{method: "PUT", path: "/api/v1/instances"})
	wantProblem(t, w, 405, "method_not_allowed")
	if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("got Allow %q, want GET and POST", allow)
	}
}

func TestBodyLimitOnRoutes(t *testing.T) {
	e := newTestEnv(t, Options{MaxBodyBytes: 64})
	w := e.do(req{method: "POST", path: "/api/v1/auth/login",
		body: `{"email":"a@example.com","password":"` + strings.Repeat("x", 100) + `"}`})
	wantProblem(t, w, http.StatusRequestEntityTooLarge, "payload_too_large")
}

func TestPanicRecovered(t *testing.T) {
	logs := &lockedWriter{w: &strings.Builder{}}
	gin.SetMode(gin.ReleaseMode)
	eng := gin.New()
	eng.Use(withRequestID(), recoverPanics(slog.New(slog.NewJSONHandler(logs, nil))))
	eng.GET("/", func(*gin.Context) { panic("boom: secret state") })
	w := serve(eng, req{method: "GET", path: "/"})
	p := wantProblem(t, w, 500, "internal")
	if strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("got body %s, want the panic value hidden", w.Body)
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), p.RequestID) {
		t.Fatalf("got log %s, want the panic logged with the request id", logs)
	}
}
