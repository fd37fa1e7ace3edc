package jwt_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/wagate/wagate/adapters/jwt"
	"github.com/wagate/wagate/ports"
)

var (
	secret   = []byte("0123456789abcdef0123456789abcdef")
	previous = []byte("previous-secret-previous-secret-")
	other    = []byte("some-other-secret-some-other-sec")
	now      = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newIssuer(t *testing.T, o jwt.Options) (*jwt.Issuer, *clock) {
	t.Helper()
	c := &clock{t: now}
	if o.Secret == nil {
		o.Secret = secret
	}
	o.Clock = c
	is, err := jwt.New(o)
	if err != nil {
		t.Fatalf("new issuer: %v", err)
	}
	return is, c
}

func sample() ports.AccessClaims {
	return ports.AccessClaims{
		TokenID: "jti-1", UserID: "user-1", SubscriptionID: "sub-1", Role: ports.RoleOwner,
		TokenVersion: 3, Family: "fam-1", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute),
	}
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	e := ports.AsError(err)
	if e == nil || e.Code != ports.EUnauthorized || e.Reason != reason {
		t.Fatalf("error: got %v, want unauthorized with reason %s", err, reason)
	}
}

// forge signs arbitrary claims with any method and key, as an attacker or a
// misconfigured peer would.
func forge(t *testing.T, m gojwt.SigningMethod, key any, kid string, mutate func(gojwt.MapClaims)) string {
	t.Helper()
	c := gojwt.MapClaims{
		"iss": "wagate", "aud": []string{"wagate-api"}, "sub": "user-1", "jti": "jti-1", "sid": "sub-1",
		"role": "owner", "ver": 0, "fam": "fam-1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	if mutate != nil {
		mutate(c)
	}
	tok := gojwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("forge: %v", err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	is, _ := newIssuer(t, jwt.Options{})
	tok, err := is.Issue(sample())
	if err != nil {
		t.Fatal(err)
	}
	got, err := is.Verify(tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	want := sample()
	if !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("times: got %v and %v, want %v and %v", got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt)
	}
	got.IssuedAt, got.ExpiresAt = want.IssuedAt, want.ExpiresAt
	if got != want {
		t.Errorf("claims: got %+v, want %+v", got, want)
	}

	header, body := decodePart(t, tok, 0), decodePart(t, tok, 1)
	if header["alg"] != "HS256" || header["kid"] != jwt.KeyID(secret) || len(jwt.KeyID(secret)) != 16 {
		t.Errorf("header: got %v, want HS256 with a 16-digit kid", header)
	}
	for _, k := range []string{"iss", "aud", "sub", "jti", "iat", "exp", "nbf", "sid", "role", "ver", "fam"} {
		if _, ok := body[k]; !ok {
			t.Errorf("claim %s: missing from %v", k, body)
		}
	}
	if body["iss"] != "wagate" || body["sid"] != "sub-1" {
		t.Errorf("body: got %v, want iss wagate and sid sub-1", body)
	}
}

func decodePart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExpired(t *testing.T) {
	is, c := newIssuer(t, jwt.Options{})
	tok, _ := is.Issue(sample())
	c.t = now.Add(15 * time.Minute)
	_, err := is.Verify(tok)
	wantReason(t, err, "token_expired")
}

func TestLeewayToleratesSkew(t *testing.T) {
	is, c := newIssuer(t, jwt.Options{Leeway: 5 * time.Second})
	tok, _ := is.Issue(sample())
	c.t = now.Add(-3 * time.Second) // a node whose clock is behind
	if _, err := is.Verify(tok); err != nil {
		t.Errorf("verify with skew: got %v, want success", err)
	}
}

func TestRejected(t *testing.T) {
	kid := jwt.KeyID(secret)
	tests := map[string]func(t *testing.T, is *jwt.Issuer) string{
		"garbage": func(*testing.T, *jwt.Issuer) string { return "not.a.jwt" },
		"empty":   func(*testing.T, *jwt.Issuer) string { return "" },
		"tampered payload": func(t *testing.T, is *jwt.Issuer) string {
			tok, _ := is.Issue(sample())
			parts := strings.Split(tok, ".")
			body := decodePart(t, tok, 1)
			body["role"] = "admin"
			raw, _ := json.Marshal(body)
			parts[1] = base64.RawURLEncoding.EncodeToString(raw)
			return strings.Join(parts, ".")
		},
		"tampered signature": func(t *testing.T, is *jwt.Issuer) string {
			tok, _ := is.Issue(sample())
			last := tok[len(tok)-1]
			if last == 'A' {
				return tok[:len(tok)-1] + "B"
			}
			return tok[:len(tok)-1] + "A"
		},
		"alg none": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodNone, gojwt.UnsafeAllowNoneSignatureType, kid, nil)
		},
		"HS512 with the same secret": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS512, secret, kid, nil)
		},
		"unknown key": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, other, jwt.KeyID(other), nil)
		},
		"unknown key under a known kid": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, other, kid, nil)
		},
		"no kid": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, "", nil)
		},
		"wrong audience": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { c["aud"] = "someone-else" })
		},
		"no audience": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { delete(c, "aud") })
		},
		"wrong issuer": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { c["iss"] = "evil" })
		},
		"no expiry": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { delete(c, "exp") })
		},
		"issued in the future": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) {
				c["iat"] = now.Add(time.Hour).Unix()
				c["exp"] = now.Add(2 * time.Hour).Unix()
			})
		},
		"not yet valid": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() })
		},
		"no jti": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { delete(c, "jti") })
		},
		"no subscription": func(t *testing.T, _ *jwt.Issuer) string {
			return forge(t, gojwt.SigningMethodHS256, secret, kid, func(c gojwt.MapClaims) { delete(c, "sid") })
		},
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			is, _ := newIssuer(t, jwt.Options{})
			_, err := is.Verify(token(t, is))
			wantReason(t, err, "unauthorized")
		})
	}
}

// The forged tokens above differ from a good one only in the named way:
// the same recipe with nothing changed is accepted.
func TestForgeBaseline(t *testing.T) {
	is, _ := newIssuer(t, jwt.Options{})
	if _, err := is.Verify(forge(t, gojwt.SigningMethodHS256, secret, jwt.KeyID(secret), nil)); err != nil {
		t.Fatalf("baseline token: got %v, want success", err)
	}
}

func TestRotation(t *testing.T) {
	old, _ := newIssuer(t, jwt.Options{Secret: previous})
	tok, _ := old.Issue(sample())

	rotated, _ := newIssuer(t, jwt.Options{Secret: secret, Previous: [][]byte{previous}})
	if _, err := rotated.Verify(tok); err != nil {
		t.Errorf("token of the previous key: got %v, want success", err)
	}
	fresh, _ := rotated.Issue(sample())
	if h := decodePart(t, fresh, 0); h["kid"] != jwt.KeyID(secret) {
		t.Errorf("new tokens: got kid %v, want the current key's", h["kid"])
	}

	dropped, _ := newIssuer(t, jwt.Options{Secret: secret})
	_, err := dropped.Verify(tok)
	wantReason(t, err, "unauthorized")
}

func TestIssuerAndAudienceOptions(t *testing.T) {
	a, _ := newIssuer(t, jwt.Options{Issuer: "wagate-eu", Audience: "eu-api"})
	b, _ := newIssuer(t, jwt.Options{})
	tok, _ := a.Issue(sample())
	if _, err := a.Verify(tok); err != nil {
		t.Errorf("same configuration: got %v, want success", err)
	}
	_, err := b.Verify(tok)
	wantReason(t, err, "unauthorized")
}

func TestNewRejectsShortSecrets(t *testing.T) {
	if _, err := jwt.New(jwt.Options{Secret: []byte("short")}); err == nil {
		t.Error("short secret: got nil error, want one")
	}
	if _, err := jwt.New(jwt.Options{Secret: secret, Previous: [][]byte{[]byte("short")}}); err == nil {
		t.Error("short previous secret: got nil error, want one")
	}
}

func BenchmarkVerify(b *testing.B) {
	is, err := jwt.New(jwt.Options{Secret: secret, Clock: &clock{t: now}})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := is.Issue(sample())
	for b.Loop() {
		if _, err := is.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
