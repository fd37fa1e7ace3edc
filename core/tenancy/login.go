package tenancy

import (
	"context"
	"fmt"
	"sync"

	"github.com/wagate/wagate/ports"
)

// dummyPassword is hashed once to give logins for unknown emails a hash to
// verify against, so that they take as long as logins with a wrong password.
const dummyPassword = "wagate-dummy-password-for-timing"

// dummyHash is computed on first use with the configured hasher, so that its
// parameters (and cost) match real hashes.
type dummyHash struct {
	once sync.Once
	hash string
	err  error
}

func (d *dummyHash) get(h ports.PasswordHasher) (string, error) {
	d.once.Do(func() { d.hash, d.err = h.Hash(dummyPassword) })
	return d.hash, d.err
}

func loginFailKey(email string) string { return "login-fail:" + email }

// takeAttempt counts the attempt against the account before its password
// is checked and refuses it once the window's count is over the limit
// (so more than the limit of logins at once, even right ones, are refused
// too, which the message says: "login attempts", not "failed logins"). The
// count is one atomic increment in the limiter, so parallel guesses cannot
// all pass a check made before any of them is counted: at most the limit
// of attempts per window reach the password. A success clears the count,
// so in effect only failures add up.
func (s *Service) takeAttempt(ctx context.Context, email string) error {
	res, err := s.d.Limiter.Take(ctx, loginFailKey(email), s.cfg.LoginFailures)
	if err != nil {
		return fmt.Errorf("count login attempt: %w", err)
	}
	if res.Reached {
		return rateLimited(res.Reset, s.d.Clock.Now(), "too many login attempts for this account; try again later")
	}
	return nil
}

// verifyLogin looks the user up and checks the password. The user is
// returned even when the password is wrong (for the audit log) and is zero
// for an unknown email, whose password is still checked against the dummy
// hash so that both failures take as long.
func (s *Service) verifyLogin(ctx context.Context, email, password string) (ports.User, bool, error) {
	u, err := s.d.Stores.Users.GetUserByEmail(ctx, email)
	switch {
	case ports.IsCode(err, ports.ENotFound):
		hash, err := s.dummy.get(s.d.Hasher)
		if err != nil {
			return ports.User{}, false, fmt.Errorf("dummy hash: %w", err)
		}
		_, _ = s.d.Hasher.Verify(hash, password)
		return ports.User{}, false, nil
	case err != nil:
		return ports.User{}, false, fmt.Errorf("look up user: %w", err)
	}
	ok, err := s.d.Hasher.Verify(u.PasswordHash, password)
	if err != nil {
		return ports.User{}, false, fmt.Errorf("verify password: %w", err)
	}
	return u, ok, nil
}

// loginFailed audits the failure (takeAttempt has counted it). The entry
// carries the email (never the password) and, when the account exists,
// lands in its subscription's log.
func (s *Service) loginFailed(ctx context.Context, email string, u ports.User, c Client) error {
	e := ports.AuditEntry{
		SubscriptionID: u.SubscriptionID,
		Action:         "auth.login_failed",
		IP:             c.IP,
		UserAgent:      c.UserAgent,
		Details:        map[string]any{"email": email},
	}
	if u.ID != "" {
		e.TargetType, e.TargetID = "user", string(u.ID)
	}
	return s.audit(ctx, s.d.Stores.Audit, e)
}

// Login checks the password. EUnauthorized (invalid_credentials) for a bad
// password or unknown email alike; ERateLimited after too many failures for
// the account, even with the right password, until the window passes.
func (s *Service) Login(ctx context.Context, cmd LoginCmd) (ports.User, Tokens, error) {
	email := normalizeEmail(cmd.Email)
	// Bounded before any work: an unbounded email would otherwise reach the
	// lockout counter's key and the audit log.
	if err := ports.FieldErrors(requireField("email", email, maxEmailLen), requireField("password", cmd.Password, maxLoginPasswordLen)); err != nil {
		return ports.User{}, Tokens{}, err
	}
	if err := s.takeAttempt(ctx, email); err != nil {
		return ports.User{}, Tokens{}, err
	}
	u, ok, err := s.verifyLogin(ctx, email, cmd.Password)
	if err != nil {
		return ports.User{}, Tokens{}, err
	}
	if !ok {
		if err := s.loginFailed(ctx, email, u, cmd.Client); err != nil {
			return ports.User{}, Tokens{}, err
		}
		return ports.User{}, Tokens{}, invalidCredentials()
	}
	if err := s.d.Limiter.Reset(ctx, loginFailKey(email), s.cfg.LoginFailures); err != nil {
		return ports.User{}, Tokens{}, fmt.Errorf("reset failed logins: %w", err)
	}
	var toks Tokens
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if toks, err = s.issue(ctx, st, u, s.d.IDs.NewID()); err != nil {
			return err
		}
		return s.audit(ctx, st.Audit, byUser(u, cmd.Client, "auth.login"))
	})
	if err != nil {
		return ports.User{}, Tokens{}, err
	}
	return withoutSecrets(u), toks, nil
}

// requireField checks a field that must be given, within max characters.
func requireField(field, v string, max int) *ports.FieldError {
	if v == "" {
		return &ports.FieldError{Field: field, Message: "is required"}
	}
	return ports.CheckText(field, v, max)
}
