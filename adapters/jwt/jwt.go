// Package jwt signs and verifies wagate's access tokens as HS256 JWTs with
// github.com/golang-jwt/jwt/v5. The algorithm is pinned, issuer, audience,
// expiry and issue time are required, and the `kid` header names the key so
// that a rotated secret keeps verifying the tokens it signed until they
// expire.
package jwt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/wagate/wagate/ports"
)

// MinSecretLen is the shortest secret accepted: HS256 keys shorter than the
// hash output weaken it (RFC 7518 §3.2).
const MinSecretLen = 32

// The defaults for Options.Issuer and Options.Audience.
const (
	DefaultIssuer   = "wagate"
	DefaultAudience = "wagate-api"
)

// Options configure an Issuer.
type Options struct {
	Secret   []byte      // signs new tokens; at least MinSecretLen bytes
	Previous [][]byte    // earlier secrets, still accepted for verification
	Issuer   string      // "iss"; DefaultIssuer when empty
	Audience string      // "aud"; DefaultAudience when empty
	Clock    ports.Clock // time.Now when nil
	// Leeway tolerates clock skew between nodes on exp, nbf and iat. Zero
	// by default.
	Leeway time.Duration
}

// Issuer is a ports.TokenIssuer.
type Issuer struct {
	kid    string
	secret []byte
	keys   map[string][]byte // by kid: the current and previous secrets
	iss    string
	aud    string
	clock  ports.Clock
	parser *gojwt.Parser
}

var _ ports.TokenIssuer = (*Issuer)(nil)

// claims is the token body: the registered claims and wagate's own.
type claims struct {
	gojwt.RegisteredClaims
	SubscriptionID string `json:"sid"`
	Role           string `json:"role"`
	TokenVersion   int    `json:"ver"`
	Family         string `json:"fam"`
}

// New returns an Issuer; an error if a secret is too short.
func New(o Options) (*Issuer, error) {
	if len(o.Secret) < MinSecretLen {
		return nil, fmt.Errorf("jwt secret: %d bytes, want at least %d", len(o.Secret), MinSecretLen)
	}
	is := &Issuer{
		kid:    KeyID(o.Secret),
		secret: o.Secret,
		keys:   map[string][]byte{KeyID(o.Secret): o.Secret},
		iss:    o.Issuer,
		aud:    o.Audience,
		clock:  o.Clock,
	}
	for i, prev := range o.Previous {
		if len(prev) < MinSecretLen {
			return nil, fmt.Errorf("previous jwt secret %d: %d bytes, want at least %d", i, len(prev), MinSecretLen)
		}
		is.keys[KeyID(prev)] = prev
	}
	if is.iss == "" {
		is.iss = DefaultIssuer
	}
	if is.aud == "" {
		is.aud = DefaultAudience
	}
	if is.clock == nil {
		is.clock = ports.ClockFunc(time.Now)
	}
	is.parser = gojwt.NewParser(
		gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg()}),
		gojwt.WithIssuer(is.iss),
		gojwt.WithAudience(is.aud),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithLeeway(o.Leeway),
		gojwt.WithTimeFunc(is.clock.Now),
	)
	return is, nil
}

// KeyID is the `kid` of a secret: the first 16 hex digits of its SHA-256,
// which names the key without revealing it.
func KeyID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])[:16]
}

// Issue signs the claims with the current secret.
func (is *Issuer) Issue(c ports.AccessClaims) (string, error) {
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims{
		RegisteredClaims: gojwt.RegisteredClaims{
			Issuer:    is.iss,
			Subject:   string(c.UserID),
			Audience:  gojwt.ClaimStrings{is.aud},
			ExpiresAt: gojwt.NewNumericDate(c.ExpiresAt),
			NotBefore: gojwt.NewNumericDate(c.IssuedAt),
			IssuedAt:  gojwt.NewNumericDate(c.IssuedAt),
			ID:        c.TokenID,
		},
		SubscriptionID: string(c.SubscriptionID),
		Role:           string(c.Role),
		TokenVersion:   c.TokenVersion,
		Family:         c.Family,
	})
	tok.Header["kid"] = is.kid
	s, err := tok.SignedString(is.secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// Verify checks the token and returns its claims. EUnauthorized with reason
// token_expired for an expired token and unauthorized for anything else.
func (is *Issuer) Verify(token string) (ports.AccessClaims, error) {
	var c claims
	_, err := is.parser.ParseWithClaims(token, &c, is.key)
	switch {
	case errors.Is(err, gojwt.ErrTokenExpired):
		return ports.AccessClaims{}, ports.ReasonError(ports.EUnauthorized, "token_expired", "the access token has expired")
	case err != nil:
		return ports.AccessClaims{}, invalid()
	case c.ID == "" || c.Subject == "" || c.SubscriptionID == "" || c.IssuedAt == nil:
		return ports.AccessClaims{}, invalid()
	}
	return ports.AccessClaims{
		TokenID:        c.ID,
		UserID:         ports.UserID(c.Subject),
		SubscriptionID: ports.SubscriptionID(c.SubscriptionID),
		Role:           ports.Role(c.Role),
		TokenVersion:   c.TokenVersion,
		Family:         c.Family,
		IssuedAt:       c.IssuedAt.UTC(),
		ExpiresAt:      c.ExpiresAt.UTC(),
	}, nil
}

// key picks the secret named by the token's kid. The algorithm was already
// checked by the parser; a token without a known kid is refused rather than
// tried against every key.
func (is *Issuer) key(t *gojwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := is.keys[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return k, nil
}

func invalid() error {
	return ports.ReasonError(ports.EUnauthorized, "unauthorized", "invalid access token")
}
