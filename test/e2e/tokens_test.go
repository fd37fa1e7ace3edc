package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		a := s.register(t)
		now := time.Now().Unix()

		// The control proves that re-signing a genuine token keeps it valid,
		// so the failures below come from the one thing each case changes.
		t.Run("re-signed genuine token", func(t *testing.T) {
			tok := craft(t, a.Access, jwt.SigningMethodHS256, jwtSecret, nil, nil)
			wantStatus(t, s.do(t, "GET", "/api/v1/me", tok, nil), http.StatusOK)
		})
		t.Run("expired", func(t *testing.T) {
			tok := craft(t, a.Access, jwt.SigningMethodHS256, jwtSecret, nil, func(c map[string]any) {
				c["iat"], c["exp"] = now-3600, now-60
			})
			wantUnauthorized(t, s.do(t, "GET", "/api/v1/me", tok, nil), "token_expired")
		})

		rejected := []struct {
			name  string
			token string
		}{
			{"tampered signature", tamperSignature(a.Access)},
			{"tampered claims", tamperClaims(t, a.Access)},
			{"alg none", craft(t, a.Access, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, func(h map[string]any) { h["alg"] = "none" }, nil)},
			{"HS512", craft(t, a.Access, jwt.SigningMethodHS512, jwtSecret, nil, nil)},
			{"other secret", craft(t, a.Access, jwt.SigningMethodHS256, "another-secret-0123456789abcdefghijkl", nil, nil)},
			{"unknown kid and other secret", craft(t, a.Access, jwt.SigningMethodHS256, "another-secret-0123456789abcdefghijkl", func(h map[string]any) { h["kid"] = "not-a-key" }, nil)},
			{"wrong audience", craft(t, a.Access, jwt.SigningMethodHS256, jwtSecret, nil, func(c map[string]any) { c["aud"] = "someone-else" })},
			{"wrong issuer", craft(t, a.Access, jwt.SigningMethodHS256, jwtSecret, nil, func(c map[string]any) { c["iss"] = "someone-else" })},
			{"garbage", "garbage"},
			{"three garbage segments", "not.a.jwt"},
			{"unknown API key", "wag_" + strings.Repeat("A", 40)},
		}
		for _, tc := range rejected {
			t.Run(tc.name, func(t *testing.T) {
				wantUnauthorized(t, s.do(t, "GET", "/api/v1/me", tc.token, nil), "unauthorized")
			})
		}

		for _, tc := range []struct{ name, header string }{
			{"missing header", ""},
			{"basic scheme", "Basic dXNlcjpwYXNzd29yZA=="},
			{"empty bearer", "Bearer "},
			{"token without scheme", a.Access},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := http.Header{}
				if tc.header != "" {
					h.Set("Authorization", tc.header)
				}
				wantUnauthorized(t, s.doWith(t, "GET", "/api/v1/me", h, nil), "unauthorized")
			})
		}

		t.Run("revoked", func(t *testing.T) {
			access, _ := s.login(t, a.Email, a.Password)
			wantStatus(t, s.do(t, "POST", "/api/v1/auth/logout", access, map[string]any{}), http.StatusNoContent)
			wantUnauthorized(t, s.do(t, "GET", "/api/v1/me", access, nil), "token_revoked")
			wantUnauthorized(t, s.do(t, "GET", "/api/v1/instances", access, nil), "token_revoked")
		})
	})
}

// wantUnauthorized checks a 401 problem with a WWW-Authenticate challenge.
func wantUnauthorized(t *testing.T, r *response, code string) {
	t.Helper()
	wantProblem(t, r, http.StatusUnauthorized, code)
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s %s: got WWW-Authenticate %q, want a Bearer challenge", r.Method, r.Path, r.Header.Get("WWW-Authenticate"))
	}
}

// craft re-signs a genuine token's header and claims, after the edit
// functions, with another method and key.
func craft(t *testing.T, token string, m jwt.SigningMethod, key any, editHeader, editClaims func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("got an access token of %d parts, want a JWS of 3", len(parts))
	}
	header, claims := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
	header["alg"] = m.Alg()
	if editHeader != nil {
		editHeader(header)
	}
	if editClaims != nil {
		editClaims(claims)
	}
	signing := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	if s, ok := key.(string); ok {
		key = []byte(s)
	}
	sig, err := m.Sign(signing, key)
	if err != nil {
		t.Fatalf("sign with %s: %v", m.Alg(), err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// tamperSignature changes one byte in the middle of the signature (the last
// base64 character may only carry padding bits).
func tamperSignature(token string) string {
	i := strings.LastIndex(token, ".") + 5
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// tamperClaims changes the subject and keeps the original signature.
func tamperClaims(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	claims := decodeSegment(t, parts[1])
	claims["sub"] = "00000000-0000-0000-0000-000000000000"
	claims["role"] = "admin"
	return parts[0] + "." + encodeSegment(t, claims) + "." + parts[2]
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode token segment: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode token segment: %v", err)
	}
	return m
}

func encodeSegment(t *testing.T, m map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encode token segment: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}
