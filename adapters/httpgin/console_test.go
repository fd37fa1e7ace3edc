package httpgin

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestConsoleServedUnderStrictCSP(t *testing.T) {
	e := newTestEnv(t, Options{})
	w := e.do(req{method: "GET", path: "/"})
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %q, want 200 text/html", w.Code, w.Header().Get("Content-Type"))
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("got CSP %q, want %q in it", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("got CSP %q, want no unsafe-*", csp)
	}
	body := w.Body.String()
	if !strings.Contains(body, `src="/console/js/main.js"`) || strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Errorf("got page %q, want only the external module and no inline script or style", body)
	}
	etag := w.Header().Get("ETag")
	if w := e.do(req{method: "GET", path: "/", header: map[string]string{"If-None-Match": etag}}); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: got %d, want 304", w.Code)
	}

	js := e.do(req{method: "GET", path: "/console/js/main.js", header: map[string]string{"Accept-Encoding": "gzip, br"}})
	if js.Code != http.StatusOK || !strings.HasPrefix(js.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("main.js: got %d %q", js.Code, js.Header().Get("Content-Type"))
	}
	if js.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("main.js: got encoding %q, want gzip", js.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(js.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Contains(plain, []byte("import")) {
		t.Errorf("main.js: got %q, want the module", plain[:min(len(plain), 80)])
	}
	for _, p := range []string{"/console/nope.js", "/console/", "/console/../httpgin.go", "/console/index.html"} {
		if w := e.do(req{method: "GET", path: p}); w.Code != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", p, w.Code)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "br, gzip;q=0.5": true, "gzip;q=0": false, "identity": false, "GZIP": true} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// refreshCookieOf returns the Set-Cookie for the refresh token.
func refreshCookieOf(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == refreshCookie {
			return c
		}
	}
	return nil
}

func TestConsoleCookieRefresh(t *testing.T) {
	e := newTestEnv(t, Options{})
	console := map[string]string{consoleHeader: "1"}
	w := e.do(req{method: "POST", path: "/api/v1/auth/register", header: console,
		body: `{"email":"cookie@example.com","password":"correct horse","name":"Ada"}`})
	if w.Code != http.StatusCreated {
		t.Fatalf("register: got %d %s", w.Code, w.Body)
	}
	var out struct {
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, w, &out)
	if out.Tokens.RefreshToken != "" || out.Tokens.AccessToken == "" {
		t.Fatalf("got tokens %+v, want an access token and the refresh token out of the body", out.Tokens)
	}
	ck := refreshCookieOf(t, w.Header())
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/api/v1/auth" || ck.Value == "" {
		t.Fatalf("got cookie %+v, want HttpOnly SameSite=Strict on /api/v1/auth", ck)
	}

	// Without the header the cookie is ignored: that is the CSRF guard.
	cookie := map[string]string{"Cookie": refreshCookie + "=" + ck.Value}
	if w := e.do(req{method: "POST", path: "/api/v1/auth/refresh", header: cookie, body: `{}`}); w.Code == http.StatusOK {
		t.Fatalf("refresh with the cookie but no header: got 200, want a refusal")
	}
	withHeader := map[string]string{"Cookie": refreshCookie + "=" + ck.Value, consoleHeader: "1"}
	w = e.do(req{method: "POST", path: "/api/v1/auth/refresh", header: withHeader})
	if w.Code != http.StatusOK {
		t.Fatalf("cookie refresh: got %d %s, want 200", w.Code, w.Body)
	}
	decodeBody(t, w, &out)
	next := refreshCookieOf(t, w.Header())
	if out.Tokens.RefreshToken != "" || next == nil || next.Value == ck.Value {
		t.Fatalf("got body token %q and cookie %+v, want a rotated cookie only", out.Tokens.RefreshToken, next)
	}
	// The spent cookie is refused and cleared.
	w = e.do(req{method: "POST", path: "/api/v1/auth/refresh", header: withHeader})
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("spent cookie: got %d, want 401", w.Code)
	}
	if c := refreshCookieOf(t, w.Header()); c == nil || c.MaxAge >= 0 {
		t.Fatalf("spent cookie: got %+v, want it cleared", c)
	}

	// Log in again, then log out with the cookie: the cookie is cleared and
	// its token no longer refreshes.
	w = e.do(req{method: "POST", path: "/api/v1/auth/login", header: console, body: `{"email":"cookie@example.com","password":"correct horse"}`})
	if w.Code != http.StatusOK {
		t.Fatalf("login: got %d %s", w.Code, w.Body)
	}
	decodeBody(t, w, &out)
	ck = refreshCookieOf(t, w.Header())
	w = e.do(req{method: "POST", path: "/api/v1/auth/logout", token: out.Tokens.AccessToken,
		header: map[string]string{"Cookie": refreshCookie + "=" + ck.Value, consoleHeader: "1"}})
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: got %d %s", w.Code, w.Body)
	}
	if c := refreshCookieOf(t, w.Header()); c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout: got cookie %+v, want it cleared", c)
	}
	w = e.do(req{method: "POST", path: "/api/v1/auth/refresh", header: map[string]string{"Cookie": refreshCookie + "=" + ck.Value, consoleHeader: "1"}})
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("refresh after logout: got %d, want 401", w.Code)
	}
}

// TestConsoleCookieAcceptInvitation checks that accepting an invitation
// from the console ends in the same cookie session as a login: the refresh
// token in the HttpOnly cookie, not in the body, and the cookie refreshes.
func TestConsoleCookieAcceptInvitation(t *testing.T) {
	e := newTestEnv(t, Options{})
	ownerTok, _ := e.account("owner@example.com")
	w := e.do(req{method: "POST", path: "/api/v1/members/invitations", token: ownerTok,
		body: `{"email":"dev@example.com","role":"developer"}`})
	if w.Code != http.StatusCreated {
		t.Fatalf("invite: got %d %s, want 201", w.Code, w.Body)
	}
	var inv InvitationDTO
	decodeBody(t, w, &inv)
	w = e.do(req{method: "POST", path: "/api/v1/auth/accept-invitation", header: map[string]string{consoleHeader: "1"},
		body: `{"token":"` + inv.Token + `","password":"correct horse","name":"Dev"}`})
	if w.Code != http.StatusCreated {
		t.Fatalf("accept: got %d %s, want 201", w.Code, w.Body)
	}
	var out struct {
		User   UserDTO   `json:"user"`
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, w, &out)
	if out.Tokens.RefreshToken != "" || out.Tokens.AccessToken == "" || out.User.MemberRole != "developer" {
		t.Fatalf("got user %+v tokens %+v, want a developer with an access token and no refresh token in the body", out.User, out.Tokens)
	}
	ck := refreshCookieOf(t, w.Header())
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/api/v1/auth" || ck.Value == "" {
		t.Fatalf("got cookie %+v, want HttpOnly SameSite=Strict on /api/v1/auth", ck)
	}
	w = e.do(req{method: "POST", path: "/api/v1/auth/refresh", header: map[string]string{"Cookie": refreshCookie + "=" + ck.Value, consoleHeader: "1"}})
	if w.Code != http.StatusOK {
		t.Fatalf("cookie refresh after accept: got %d %s, want 200", w.Code, w.Body)
	}
}
