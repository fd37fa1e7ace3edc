package coretest

import (
	"fmt"
	"sync"

	"github.com/wagate/wagate/ports"
)

// TokenIssuer is a ports.TokenIssuer that remembers the claims of every token
// it issued: a token it does not know is a forgery.
type TokenIssuer struct {
	Clock ports.Clock

	mu     sync.Mutex
	issued map[string]ports.AccessClaims
}

var _ ports.TokenIssuer = (*TokenIssuer)(nil)

// NewTokenIssuer returns an issuer that checks expiry against clock.
func NewTokenIssuer(clock ports.Clock) *TokenIssuer {
	return &TokenIssuer{Clock: clock, issued: map[string]ports.AccessClaims{}}
}

// Issue returns an opaque token for the claims.
func (t *TokenIssuer) Issue(c ports.AccessClaims) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tok := fmt.Sprintf("fake-access-%d-%s", len(t.issued)+1, c.TokenID)
	t.issued[tok] = c
	return tok, nil
}

// Verify returns the claims of a token issued here, with the errors of the
// port contract.
func (t *TokenIssuer) Verify(token string) (ports.AccessClaims, error) {
	t.mu.Lock()
	c, ok := t.issued[token]
	t.mu.Unlock()
	if !ok {
		return ports.AccessClaims{}, ports.ReasonError(ports.EUnauthorized, "unauthorized", "invalid access token")
	}
	if !t.Clock.Now().Before(c.ExpiresAt) {
		return ports.AccessClaims{}, ports.ReasonError(ports.EUnauthorized, "token_expired", "the access token has expired")
	}
	return c, nil
}
