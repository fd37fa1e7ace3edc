package tenancy

import (
	"time"

	"github.com/wagate/wagate/ports"
)

func unauthorized() error {
	return ports.ReasonError(ports.EUnauthorized, "unauthorized", "missing or invalid credentials")
}

func invalidCredentials() error {
	return ports.ReasonError(ports.EUnauthorized, "invalid_credentials", "the email or password is wrong")
}

func tokenRevoked() error {
	return ports.ReasonError(ports.EUnauthorized, "token_revoked", "the token has been revoked")
}

func tokenExpired() error {
	return ports.ReasonError(ports.EUnauthorized, "token_expired", "the token has expired")
}

func emailTaken() error {
	return ports.ReasonError(ports.EConflict, "email_taken", "the email is already registered")
}

// rateLimited tells the client to come back when the window resets, and
// never sooner than a second: Retry-After has whole seconds.
func rateLimited(reset, now time.Time, message string) error {
	e := ports.ReasonError(ports.ERateLimited, "rate_limited", message)
	e.RetryAfter = max(reset.Sub(now), time.Second)
	return e
}
