package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestOperations(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WAGATE_CORS_ORIGINS": "https://app.example.com"}
	eachBackend(t, env, databases, func(t *testing.T, s *server) {
		a := s.register(t)

		t.Run("healthz", func(t *testing.T) {
			wantStatus(t, s.do(t, "GET", "/healthz", "", nil), http.StatusOK)
		})
		t.Run("readyz", func(t *testing.T) {
			r := s.do(t, "GET", "/readyz", "", nil)
			wantStatus(t, r, http.StatusOK)
			wantKeys(t, "readyz", r.JSON, "status", "checks")
			if checks, ok := r.JSON["checks"].(map[string]any); !ok || len(checks) == 0 {
				t.Errorf("got checks %#v, want an object naming at least the database", r.JSON["checks"])
			}
		})
		t.Run("metrics", func(t *testing.T) {
			r := s.do(t, "GET", "/metrics", "", nil)
			wantStatus(t, r, http.StatusOK)
			if !strings.Contains(string(r.Body), "wagate_http_requests_total") {
				t.Errorf("got metrics without wagate_http_requests_total:\n%.2000s", r.Body)
			}
		})
		t.Run("openapi", func(t *testing.T) {
			r := s.do(t, "GET", "/openapi.json", "", nil)
			wantStatus(t, r, http.StatusOK)
			var doc struct {
				OpenAPI string                    `json:"openapi"`
				Paths   map[string]map[string]any `json:"paths"`
			}
			if err := json.Unmarshal(r.Body, &doc); err != nil {
				t.Fatalf("decode /openapi.json: %v", err)
			}
			if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
				t.Errorf("got openapi %q, want 3.1.x", doc.OpenAPI)
			}
			for path, method := range map[string]string{
				"/api/v1/auth/register":                   "post",
				"/api/v1/me":                              "get",
				"/api/v1/instances":                       "post",
				"/api/v1/instances/{id}":                  "patch",
				"/api/v1/instances/{id}/api-keys/{keyId}": "delete",
				"/api/v1/instance":                        "get",
				"/api/v1/admin/subscriptions/{id}":        "patch",
				"/api/v1/audit-logs":                      "get",
			} {
				if _, ok := doc.Paths[path][method]; !ok {
					t.Errorf("got no %s %s in /openapi.json, want it documented", method, path)
				}
			}
		})
		t.Run("docs", func(t *testing.T) {
			r := s.do(t, "GET", "/docs", "", nil)
			wantStatus(t, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("got /docs Content-Type %q, want text/html", ct)
			}
		})

		t.Run("security headers and request ids", func(t *testing.T) {
			for _, rt := range []struct {
				route
				token string
			}{
				{route{"GET", "/healthz", nil}, ""},
				{route{"GET", "/metrics", nil}, ""},
				{route{"GET", "/openapi.json", nil}, ""},
				{route{"GET", "/api/v1/me", nil}, a.Access},
				{route{"GET", "/api/v1/me", nil}, ""},
				{route{"GET", "/api/v1/instances/abc", nil}, a.Access},
				{route{"GET", "/no-such-path", nil}, ""},
				{route{"POST", "/api/v1/auth/login", `{"email":`}, ""},
				{route{"POST", "/api/v1/instances", map[string]any{"name": "headers"}}, a.Access},
			} {
				r := s.do(t, rt.method, rt.path, rt.token, rt.body)
				if r.Status >= 500 {
					t.Errorf("%s: got %d, want no server error", r, r.Status)
				}
				wantSecurityHeaders(t, r)
			}
		})
		t.Run("incoming request id", func(t *testing.T) {
			const sane = "e2e-Req_0123456789.abc"
			r := s.doWith(t, "GET", "/api/v1/instances/abc", http.Header{"X-Request-Id": {sane}, "Authorization": {"Bearer " + a.Access}}, nil)
			if got := r.Header.Get("X-Request-Id"); got != sane {
				t.Errorf("got X-Request-Id %q, want the incoming %q echoed", got, sane)
			}
			if got := str(r.JSON, "requestId"); got != sane {
				t.Errorf("got requestId %q in the problem, want %q", got, sane)
			}
			for _, insane := range []string{strings.Repeat("x", 1000), "<script>alert(1)</script>", "a b c"} {
				r := s.doWith(t, "GET", "/healthz", http.Header{"X-Request-Id": {insane}}, nil)
				if got := r.Header.Get("X-Request-Id"); got == "" || got == insane {
					t.Errorf("got X-Request-Id %.40q for the incoming %.40q, want a fresh one", got, insane)
				}
			}
		})
		t.Run("CORS", func(t *testing.T) {
			preflight := func(origin string) *response {
				return s.doWith(t, "OPTIONS", "/api/v1/instances", http.Header{
					"Origin":                         {origin},
					"Access-Control-Request-Method":  {"POST"},
					"Access-Control-Request-Headers": {"authorization,content-type"},
				}, nil)
			}
			r := preflight("https://app.example.com")
			if r.Status >= 300 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
				t.Errorf("%s: got status %d and Access-Control-Allow-Origin %q for a configured origin, want 2xx and the origin", r, r.Status, r.Header.Get("Access-Control-Allow-Origin"))
			}
			r = preflight("https://evil.example.net")
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("got Access-Control-Allow-Origin %q for an unknown origin, want none", got)
			}
			r = s.doWith(t, "GET", "/api/v1/me", http.Header{"Origin": {"https://evil.example.net"}, "Authorization": {"Bearer " + a.Access}}, nil)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("got Access-Control-Allow-Origin %q on a request from an unknown origin, want none", got)
			}
		})
	})
}

// wantSecurityHeaders checks the headers every response carries (SPEC §2, §11).
func wantSecurityHeaders(t *testing.T, r *response) {
	t.Helper()
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := r.Header.Get(h); !strings.EqualFold(got, want) {
			t.Errorf("%s %s: got %s %q, want %q", r.Method, r.Path, h, got, want)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: got no X-Request-Id, want one on every response", r.Method, r.Path)
	}
	if got := r.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("%s %s: got Strict-Transport-Security %q over plain HTTP, want it only with TLS", r.Method, r.Path, got)
	}
}
