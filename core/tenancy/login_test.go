package tenancy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

func TestLogin(t *testing.T) {
	tests := []struct {
		name       string
		email      string
		pass       string
		wantCode   ports.ErrorCode
		wantReason string
	}{
		{"right password", "ada@example.com", "correct horse", "", ""},
		{"email in another case", " ADA@example.com ", "correct horse", "", ""},
		{"wrong password", "ada@example.com", "wrong horse", ports.EUnauthorized, "invalid_credentials"},
		{"unknown email", "bob@example.com", "correct horse", ports.EUnauthorized, "invalid_credentials"},
		{"empty email", "", "correct horse", ports.EInvalid, ""},
		{"empty password", "ada@example.com", "", ports.EInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			acc, _ := e.register(t, "ada@example.com")
			u, toks, err := e.svc.Login(context.Background(), tenancy.LoginCmd{Email: tt.email, Password: tt.pass, Client: client})
			if tt.wantCode != "" {
				wantErr(t, err, tt.wantCode, tt.wantReason)
				return
			}
			if err != nil {
				t.Fatalf("login: got %v, want success", err)
			}
			if u.ID != acc.User.ID || u.PasswordHash != "" {
				t.Errorf("user: got %+v, want %s without its hash", u, acc.User.ID)
			}
			if p := e.principal(t, toks.AccessToken); p.UserID != acc.User.ID {
				t.Errorf("principal user: got %s, want %s", p.UserID, acc.User.ID)
			}
		})
	}
}

// An unknown email and a wrong password must look the same to the client,
// and both must spend a password verification.
func TestLoginUnknownEmailLooksLikeWrongPassword(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	e.register(t, "ada@example.com")
	ctx := context.Background()

	before := e.hasher.Verifies()
	_, _, errWrong := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "wrong horse"})
	_, _, errUnknown := e.svc.Login(ctx, tenancy.LoginCmd{Email: "bob@example.com", Password: "wrong horse"})
	if got := e.hasher.Verifies() - before; got != 2 {
		t.Errorf("password verifications: got %d, want 2 (one per attempt)", got)
	}
	if errWrong.Error() != errUnknown.Error() {
		t.Errorf("errors differ: %q and %q", errWrong, errUnknown)
	}
}

func TestLoginAudit(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, _ := e.register(t, "ada@example.com")
	ctx := context.Background()
	_, _, _ = e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "secret wrong", Client: client})
	_, _, _ = e.svc.Login(ctx, tenancy.LoginCmd{Email: "ghost@example.com", Password: "secret wrong", Client: client})
	if _, _, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse", Client: client}); err != nil {
		t.Fatal(err)
	}

	audit := e.store.Audit()
	want := []string{"auth.register", "auth.login_failed", "auth.login_failed", "auth.login"}
	if got := actions(audit); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit: got %v, want %v", got, want)
	}
	if f := audit[1]; f.SubscriptionID != acc.Subscription.ID || f.Details["email"] != "ada@example.com" || f.IP != client.IP {
		t.Errorf("failed login of a known account: got %+v, want its subscription, email and IP", f)
	}
	if f := audit[2]; f.SubscriptionID != "" || f.Details["email"] != "ghost@example.com" {
		t.Errorf("failed login of an unknown email: got %+v, want no subscription and the email", f)
	}
	for _, entry := range audit {
		for k, v := range entry.Details {
			if s, ok := v.(string); ok && strings.Contains(s, "secret") {
				t.Errorf("audit detail %s holds the password: %q", k, s)
			}
		}
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	e.register(t, "ada@example.com")
	ctx := context.Background()
	login := func(pass string) error {
		_, _, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: pass})
		return err
	}
	for i := range 10 {
		if err := login("wrong horse"); ports.AsError(err).Reason != "invalid_credentials" {
			t.Fatalf("failure %d: got %v, want invalid_credentials", i+1, err)
		}
	}
	err := login("correct horse")
	wantErr(t, err, ports.ERateLimited, "rate_limited")
	if ra := ports.AsError(err).RetryAfter; ra < time.Second || ra > 15*time.Minute {
		t.Errorf("retry after: got %v, want between 1s and 15m", ra)
	}
	// Another case of the same email is the same account.
	_, _, err = e.svc.Login(ctx, tenancy.LoginCmd{Email: "ADA@example.com", Password: "correct horse"})
	wantErr(t, err, ports.ERateLimited, "rate_limited")

	e.clock.Advance(15 * time.Minute)
	if err := login("correct horse"); err != nil {
		t.Fatalf("login after the window: got %v, want success", err)
	}
}

// A successful login clears the failures, so that a user who mistypes now
// and then is never locked out.
func TestLoginSuccessResetsFailures(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	e.register(t, "ada@example.com")
	ctx := context.Background()
	for round := range 3 {
		for range 9 {
			_, _, _ = e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "wrong horse"})
		}
		if _, _, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse"}); err != nil {
			t.Fatalf("round %d: got %v, want success", round, err)
		}
	}
}

func TestLoginLockoutIsPerAccount(t *testing.T) {
	e := newEnv(t, tenancy.Config{LoginFailures: ports.Limit{Count: 2, Period: time.Minute}})
	e.register(t, "ada@example.com")
	e.register(t, "bob@example.com")
	ctx := context.Background()
	for range 2 {
		_, _, _ = e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "wrong horse"})
	}
	_, _, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse"})
	wantErr(t, err, ports.ERateLimited, "rate_limited")
	if _, _, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "bob@example.com", Password: "correct horse"}); err != nil {
		t.Fatalf("other account: got %v, want success", err)
	}
}

// Guesses sent together must not get more password checks than the
// lockout allows: each is counted before its password is verified.
func TestLoginLockoutHoldsForParallelGuesses(t *testing.T) {
	const guesses = 30
	e := newEnv(t, tenancy.Config{})
	e.register(t, "ada@example.com")
	h := coretest.NewGatedHasher(guesses)
	svc := e.service(tenancy.Config{}, h)
	errs := h.RunAtGate(guesses, func() error {
		_, _, err := svc.Login(context.Background(), tenancy.LoginCmd{Email: "ada@example.com", Password: "wrong horse"})
		return err
	})
	counts := coretest.Reasons(errs)
	if counts["invalid_credentials"] > 10 || counts["invalid_credentials"]+counts["rate_limited"] != guesses {
		t.Fatalf("got %v, want at most 10 invalid_credentials and the rest rate_limited", counts)
	}
}

// An oversized or NUL-bearing email or password is refused before any
// work: no hash, no failed-login counter, no audit row (a probe's 900 KB
// email wrote a 900 KB audit row and a 900 KB Redis key).
func TestLoginBoundsInputBeforeWork(t *testing.T) {
	long := strings.Repeat("a", 900_000) + "@example.com"
	for _, tc := range []struct {
		name, email, pass, field string
	}{
		{"huge email", long, "correct horse", "email"},
		{"email of 255 characters", strings.Repeat("é", 243) + "@example.com", "correct horse", "email"},
		{"huge password", "ada@example.com", strings.Repeat("p", 1025), "password"},
		{"NUL in email", "ada\x00@example.com", "correct horse", "email"},
		{"invalid UTF-8 password", "ada@example.com", "pass\xffword", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			e.register(t, "ada@example.com")
			before, audits := e.hasher.Verifies(), len(e.store.Audit())
			_, _, err := e.svc.Login(context.Background(), tenancy.LoginCmd{Email: tc.email, Password: tc.pass, Client: client})
			wantFields(t, err, tc.field)
			if got := e.hasher.Verifies() - before; got != 0 {
				t.Errorf("password verifications: got %d, want 0", got)
			}
			if got := len(e.store.Audit()) - audits; got != 0 {
				t.Errorf("audit entries: got %d new, want 0", got)
			}
		})
	}
}
