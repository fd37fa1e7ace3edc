package ports

import (
	"context"
	"time"
)

// Clock tells the time; tests use a fixed one.
type Clock interface {
	Now() time.Time
}

// IDGen makes new opaque, time-ordered ids.
type IDGen interface {
	NewID() string
}

// IDTimer is what an IDGen whose ids carry their creation time (UUIDv7)
// may offer: that time back, to the millisecond. ok is false for an id it
// did not make.
type IDTimer interface {
	TimeOf(id string) (t time.Time, ok bool)
}

// PasswordHasher hashes and checks passwords.
type PasswordHasher interface {
	// Hash returns an encoded hash with its parameters and salt.
	Hash(password string) (string, error)
	// Verify reports whether password matches hash; an error only for a
	// malformed hash.
	Verify(hash, password string) (bool, error)
}

// AccessClaims is what an access token carries.
type AccessClaims struct {
	TokenID        string // jti
	UserID         UserID
	SubscriptionID SubscriptionID
	Role           Role
	TokenVersion   int
	Family         string // the refresh family
	IssuedAt       time.Time
	ExpiresAt      time.Time
}

// TokenIssuer signs and checks access tokens.
type TokenIssuer interface {
	// Issue signs the claims.
	Issue(c AccessClaims) (string, error)
	// Verify checks signature, algorithm, issuer, audience and expiry.
	// EUnauthorized (reason token_expired for an expired token,
	// unauthorized otherwise) when the token is not acceptable.
	Verify(token string) (AccessClaims, error)
}

// Limit is a number of hits allowed per period.
type Limit struct {
	Count  int
	Period time.Duration
}

// RateResult is the state of one rate-limit counter.
type RateResult struct {
	Limit     int
	Remaining int
	Reset     time.Time
	Reached   bool
}

// RateLimiter counts hits per key in fixed windows. With Redis the counters
// are shared by every node.
type RateLimiter interface {
	// Take counts one hit and reports the state after it; Reached is true
	// when the hit went over the limit.
	Take(ctx context.Context, key string, l Limit) (RateResult, error)
	// Peek reports the state without counting.
	Peek(ctx context.Context, key string, l Limit) (RateResult, error)
	// Reset clears the counter.
	Reset(ctx context.Context, key string, l Limit) error
}

// ClockFunc adapts a function such as time.Now to Clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// TierLimits are what a tier allows.
type TierLimits struct {
	Instances         int // how many instances a subscription may have
	RequestsPerMinute int // API requests per minute for the whole subscription
}

// TierTable maps each tier to its limits.
type TierTable map[Tier]TierLimits

// DefaultTiers are the limits of SPEC §3.
func DefaultTiers() TierTable {
	return TierTable{
		TierBasic: {Instances: 5, RequestsPerMinute: 600},
		TierPro:   {Instances: 20, RequestsPerMinute: 3000},
		TierMax:   {Instances: 40, RequestsPerMinute: 6000},
	}
}

// Valid reports whether t is a known tier.
func (tt TierTable) Valid(t Tier) bool {
	_, ok := tt[t]
	return ok
}
