package e2e

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		t.Run("register", func(t *testing.T) { t.Parallel(); testRegister(t, s) })
		t.Run("register duplicate email", func(t *testing.T) { t.Parallel(); testDuplicateEmail(t, s) })
		t.Run("register bad emails", func(t *testing.T) { t.Parallel(); testBadEmails(t, s) })
		t.Run("register password length", func(t *testing.T) { t.Parallel(); testPasswordLength(t, s) })
		t.Run("login", func(t *testing.T) { t.Parallel(); testLogin(t, s) })
		t.Run("refresh rotation and reuse", func(t *testing.T) { t.Parallel(); testRefresh(t, s) })
		t.Run("logout", func(t *testing.T) { t.Parallel(); testLogout(t, s) })
		t.Run("password change", func(t *testing.T) { t.Parallel(); testPasswordChange(t, s) })
		t.Run("me", func(t *testing.T) { t.Parallel(); testMe(t, s) })
	})
}

func testRegister(t *testing.T, s *server) {
	email := unique("reg") + "@example.com"
	r := s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{
		"email": email, "password": defaultPassword, "name": "Ada Lovelace",
	})
	wantStatus(t, r, http.StatusCreated)
	wantKeys(t, "register", r.JSON, "user", "subscription", "tokens")

	user := obj(t, r.JSON, "user")
	wantKeys(t, "user", user, "id", "email", "name")
	if got := str(user, "email"); !strings.EqualFold(got, email) {
		t.Errorf("got user.email %q, want %q", got, email)
	}
	if got := str(user, "name"); got != "Ada Lovelace" {
		t.Errorf("got user.name %q, want %q", got, "Ada Lovelace")
	}
	for _, secret := range []string{"password", "passwordHash"} {
		if _, ok := user[secret]; ok {
			t.Errorf("user carries %q; want no password material", secret)
		}
	}

	sub := obj(t, r.JSON, "subscription")
	wantKeys(t, "subscription", sub, "id", "tier", "instanceLimit", "instancesUsed")
	if got := str(sub, "tier"); got != "basic" {
		t.Errorf("got tier %q, want basic", got)
	}
	if got := num(sub, "instanceLimit"); got != 5 {
		t.Errorf("got instanceLimit %v, want 5", got)
	}
	if got, ok := sub["instancesUsed"].(float64); !ok || got != 0 {
		t.Errorf("got instancesUsed %#v, want 0", sub["instancesUsed"])
	}
	wantTokens(t, obj(t, r.JSON, "tokens"))
}

// wantTokens checks the tokens object of SPEC §3.
func wantTokens(t *testing.T, tok map[string]any) {
	t.Helper()
	wantKeys(t, "tokens", tok, "accessToken", "refreshToken", "tokenType", "expiresIn")
	if got := str(tok, "tokenType"); got != "Bearer" {
		t.Errorf("got tokenType %q, want Bearer", got)
	}
	if str(tok, "accessToken") == "" || str(tok, "refreshToken") == "" {
		t.Errorf("got tokens %v, want non-empty access and refresh tokens", tok)
	}
	if got := num(tok, "expiresIn"); got <= 0 || got > 15*60 {
		t.Errorf("got expiresIn %v, want seconds in (0, 900]", tok["expiresIn"])
	}
}

func testDuplicateEmail(t *testing.T, s *server) {
	a := s.register(t)
	r := s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{
		"email": strings.ToUpper(a.Email), "password": defaultPassword, "name": "Twin",
	})
	wantProblem(t, r, http.StatusConflict, "email_taken")
}

func testBadEmails(t *testing.T, s *server) {
	for _, email := range []string{"", "plain", "a@", "@example.com", "two words@example.com", "a@@example.com", strings.Repeat("x", 300) + "@example.com"} {
		r := s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{
			"email": email, "password": defaultPassword, "name": "Bad Email",
		})
		wantFieldError(t, r, "email")
	}
}

func testPasswordLength(t *testing.T, s *server) {
	for _, tc := range []struct {
		length int
		ok     bool
	}{{7, false}, {8, true}, {128, true}, {129, false}} {
		r := s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{
			"email": unique("pw") + "@example.com", "password": strings.Repeat("p", tc.length), "name": "Length",
		})
		if tc.ok {
			wantStatus(t, r, http.StatusCreated)
		} else {
			wantFieldError(t, r, "password")
		}
	}
}

func testLogin(t *testing.T, s *server) {
	a := s.register(t)
	r := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": a.Password})
	wantStatus(t, r, http.StatusOK)
	wantKeys(t, "login", r.JSON, "user", "tokens")
	if got := str(obj(t, r.JSON, "user"), "id"); got != a.UserID {
		t.Errorf("got user.id %q, want %q", got, a.UserID)
	}
	wantTokens(t, obj(t, r.JSON, "tokens"))

	r = s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": strings.ToUpper(a.Email), "password": a.Password})
	wantStatus(t, r, http.StatusOK)

	wrong := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": "not the password"})
	wantProblem(t, wrong, http.StatusUnauthorized, "invalid_credentials")
	unknown := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": unique("nobody") + "@example.com", "password": "not the password"})
	wantProblem(t, unknown, http.StatusUnauthorized, "invalid_credentials")

	// An unknown email must not be told apart from a wrong password.
	for _, k := range []string{"type", "title", "detail", "code", "status"} {
		if wrong.JSON[k] != unknown.JSON[k] {
			t.Errorf("got %s %#v for a wrong password and %#v for an unknown email, want the same", k, wrong.JSON[k], unknown.JSON[k])
		}
	}
	if got, want := sortedKeys(unknown.JSON), sortedKeys(wrong.JSON); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got keys %v for an unknown email, want %v as for a wrong password", got, want)
	}
}

func testRefresh(t *testing.T, s *server) {
	a := s.register(t)
	r := s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": a.Refresh})
	wantStatus(t, r, http.StatusOK)
	tok := obj(t, r.JSON, "tokens")
	wantTokens(t, tok)
	access2, refresh2 := str(tok, "accessToken"), str(tok, "refreshToken")
	if refresh2 == a.Refresh {
		t.Fatalf("got the same refresh token back, want a rotated one")
	}
	wantStatus(t, s.do(t, "GET", "/api/v1/me", access2, nil), http.StatusOK)

	// Reusing the spent token is theft: it fails and kills the family.
	wantProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": a.Refresh}), http.StatusUnauthorized, "token_revoked")
	wantProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": refresh2}), http.StatusUnauthorized, "token_revoked")
	// The family's access tokens die with it, not 15 minutes later.
	wantProblem(t, s.do(t, "GET", "/api/v1/me", access2, nil), http.StatusUnauthorized, "token_revoked")
	wantProblem(t, s.do(t, "GET", "/api/v1/me", a.Access, nil), http.StatusUnauthorized, "token_revoked")

	wantProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": "garbage"}), http.StatusUnauthorized, "unauthorized")
	// A missing token is a missing field, not bad credentials.
	wantFieldError(t, s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{}), "refreshToken")
}

func testLogout(t *testing.T, s *server) {
	a := s.register(t)
	r := s.do(t, "POST", "/api/v1/auth/logout", a.Access, map[string]any{"refreshToken": a.Refresh})
	wantStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("got body %q with 204, want none", r.Body)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/me", a.Access, nil), http.StatusUnauthorized, "token_revoked")
	r = s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": a.Refresh})
	if r.Status != http.StatusUnauthorized {
		t.Errorf("%s: got %d after logout, want 401", r, r.Status)
	}

	// Without a body the token's own family is revoked.
	access, refresh := s.login(t, a.Email, a.Password)
	wantStatus(t, s.do(t, "POST", "/api/v1/auth/logout", access, nil), http.StatusNoContent)
	wantProblem(t, s.do(t, "GET", "/api/v1/me", access, nil), http.StatusUnauthorized, "token_revoked")
	wantProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": refresh}), http.StatusUnauthorized, "token_revoked")

	// Another session of the same user lives on.
	other, _ := s.login(t, a.Email, a.Password)
	wantStatus(t, s.do(t, "GET", "/api/v1/me", other, nil), http.StatusOK)
}

func testPasswordChange(t *testing.T, s *server) {
	a := s.register(t)
	access2, refresh2 := s.login(t, a.Email, a.Password)
	const newPassword = "a brand new passphrase"

	r := s.do(t, "POST", "/api/v1/auth/password", a.Access, map[string]any{"currentPassword": "wrong password!", "newPassword": newPassword})
	wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
	r = s.do(t, "POST", "/api/v1/auth/password", a.Access, map[string]any{"currentPassword": a.Password, "newPassword": "short"})
	wantFieldError(t, r, "newPassword")

	r = s.do(t, "POST", "/api/v1/auth/password", a.Access, map[string]any{"currentPassword": a.Password, "newPassword": newPassword})
	wantStatus(t, r, http.StatusNoContent)

	// Every earlier token dies, from this session and the other.
	for _, tok := range []string{a.Access, access2} {
		if r := s.do(t, "GET", "/api/v1/me", tok, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: got %d with a token from before the password change, want 401", r, r.Status)
		}
	}
	for _, tok := range []string{a.Refresh, refresh2} {
		if r := s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": tok}); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: got %d with a refresh token from before the password change, want 401", r, r.Status)
		}
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "invalid_credentials")
	access, _ := s.login(t, a.Email, newPassword)
	wantStatus(t, s.do(t, "GET", "/api/v1/me", access, nil), http.StatusOK)
}

func testMe(t *testing.T, s *server) {
	a := s.register(t)
	r := s.do(t, "GET", "/api/v1/me", a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	wantKeys(t, "me", r.JSON, "user", "subscription")
	if got := str(obj(t, r.JSON, "user"), "id"); got != a.UserID {
		t.Errorf("got user.id %q, want %q", got, a.UserID)
	}
	sub := obj(t, r.JSON, "subscription")
	wantKeys(t, "subscription", sub, "id", "tier", "instanceLimit", "instancesUsed")
	if got := str(sub, "id"); got != a.SubID {
		t.Errorf("got subscription.id %q, want %q", got, a.SubID)
	}
}
