package tenancy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

type env struct {
	svc     *tenancy.Service
	store   *coretest.Store
	clock   *coretest.Clock
	hasher  *coretest.Hasher
	limiter *coretest.Limiter
	ids     *coretest.IDs
	// principals caches callers when newCachedEnv made the env.
	principals *tenancy.Principals
}

var client = tenancy.Client{IP: "198.51.100.7", UserAgent: "tenancy-test"}

func newEnv(t *testing.T, cfg tenancy.Config) *env {
	t.Helper()
	e := &env{
		store:  coretest.NewStore(),
		clock:  coretest.NewClock(),
		hasher: &coretest.Hasher{},
		ids:    &coretest.IDs{},
	}
	e.limiter = coretest.NewLimiter(e.clock)
	e.svc = e.service(cfg, e.hasher)
	return e
}

// service returns another Service over the env's store, clock and limiter,
// checking passwords with h.
func (e *env) service(cfg tenancy.Config, h ports.PasswordHasher) *tenancy.Service {
	return tenancy.New(tenancy.Deps{
		Tx:      e.store,
		Stores:  e.store.Stores(),
		Clock:   e.clock,
		IDs:     e.ids,
		Hasher:  h,
		Tokens:  coretest.NewTokenIssuer(e.clock),
		Limiter: e.limiter,

		Principals: e.principals,
	}, cfg)
}

// register creates an account or fails the test.
func (e *env) register(t *testing.T, email string) (tenancy.Account, tenancy.Tokens) {
	t.Helper()
	acc, toks, err := e.svc.Register(context.Background(), tenancy.RegisterCmd{
		Email: email, Password: "correct horse", Name: "Ada", Client: client,
	})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return acc, toks
}

// principal authenticates an access token or fails the test.
func (e *env) principal(t *testing.T, access string) ports.Principal {
	t.Helper()
	p, err := e.svc.AuthenticateAccess(context.Background(), access)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	p.IP, p.UserAgent = client.IP, client.UserAgent
	return p
}

// admin creates a platform admin and returns their principal.
func (e *env) admin(t *testing.T) ports.Principal {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, tenancy.CreateUserCmd{Email: "root@example.com", Password: "admin password", Name: "Root", Admin: true}); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	_, toks, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "root@example.com", Password: "admin password"})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	return e.principal(t, toks.AccessToken)
}

func apiKeyPrincipal(sub ports.SubscriptionID) ports.Principal {
	return ports.Principal{
		Kind: ports.PrincipalAPIKey, SubscriptionID: sub, Tier: ports.TierBasic,
		APIKeyID: "key-1", InstanceID: "inst-1", Scopes: ports.AllScopes,
	}
}

// wantErr checks err's code and, when reason is not empty, its reason.
func wantErr(t *testing.T, err error, code ports.ErrorCode, reason string) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
	if reason == "" {
		return
	}
	if got := ports.AsError(err).Reason; got != reason {
		t.Fatalf("error reason: got %q (%v), want %q", got, err, reason)
	}
}

// wantFields checks that err is EInvalid naming exactly the fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantErr(t, err, ports.EInvalid, "")
	var got []string
	for _, f := range ports.AsError(err).Fields {
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("invalid fields: got %v, want %v", got, fields)
	}
}

func actions(entries []ports.AuditEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}
