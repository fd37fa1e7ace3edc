package tenancy_test

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// newCachedEnv is newEnv with a principal cache whose TTL outlasts the
// test: only a revocation can make a cached caller be read again.
func newCachedEnv(t *testing.T) (*env, *recordingBus) {
	t.Helper()
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock(), hasher: &coretest.Hasher{}, ids: &coretest.IDs{}}
	e.limiter = coretest.NewLimiter(e.clock)
	bus := &recordingBus{}
	e.principals = tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Hour}, e.clock, bus, nil)
	e.svc = e.service(tenancy.Config{AccessTTL: 2 * time.Hour}, e.hasher)
	return e, bus
}

// TestEveryChangeOfRightsRevokesTheCachedCaller walks the changes that take
// rights from a logged-in user: each must make the cached principal go,
// here and (through the bus) on the other nodes.
func TestEveryChangeOfRightsRevokesTheCachedCaller(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, e *env, p ports.Principal, toks tenancy.Tokens)
		want   func(p ports.Principal) ports.Revocation
		reason string // of the next authentication; "" when it succeeds
	}{
		{"logout", func(t *testing.T, e *env, p ports.Principal, _ tenancy.Tokens) {
			if err := e.svc.Logout(ctx, p, ""); err != nil {
				t.Fatalf("logout: %v", err)
			}
		}, func(p ports.Principal) ports.Revocation {
			return ports.Revocation{TokenID: p.TokenID, TokenFamily: p.TokenFamily}
		}, "token_revoked"},
		{"password", func(t *testing.T, e *env, p ports.Principal, _ tenancy.Tokens) {
			if err := e.svc.ChangePassword(ctx, p, "correct horse", "battery staple x"); err != nil {
				t.Fatalf("change password: %v", err)
			}
		}, func(p ports.Principal) ports.Revocation { return ports.Revocation{UserID: p.UserID} }, "token_revoked"},
		{"refresh reuse", func(t *testing.T, e *env, _ ports.Principal, toks tenancy.Tokens) {
			if _, err := e.svc.Refresh(ctx, toks.RefreshToken, client); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			_, err := e.svc.Refresh(ctx, toks.RefreshToken, client)
			wantErr(t, err, ports.EUnauthorized, "token_revoked")
		}, func(p ports.Principal) ports.Revocation { return ports.Revocation{TokenFamily: p.TokenFamily} }, "token_revoked"},
		{"tier", func(t *testing.T, e *env, p ports.Principal, _ tenancy.Tokens) {
			if _, err := e.svc.ChangeTier(ctx, e.admin(t), p.SubscriptionID, ports.TierPro); err != nil {
				t.Fatalf("change tier: %v", err)
			}
		}, func(p ports.Principal) ports.Revocation { return ports.Revocation{SubscriptionID: p.SubscriptionID} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, bus := newCachedEnv(t)
			_, toks := e.register(t, "ada@example.com")
			p := e.principal(t, toks.AccessToken) // now cached
			tt.change(t, e, p, toks)
			got, err := e.svc.AuthenticateAccess(ctx, toks.AccessToken)
			if tt.reason != "" {
				wantErr(t, err, ports.EUnauthorized, tt.reason)
			} else if err != nil || got.Tier != ports.TierPro {
				t.Fatalf("got tier %q (%v) after the change, want %q read again", got.Tier, err, ports.TierPro)
			}
			want := tt.want(p)
			found := false
			for _, r := range bus.all() {
				found = found || r == want
			}
			if !found {
				t.Errorf("bus got %+v, want %+v among them", bus.all(), want)
			}
		})
	}
}

// TestCachedCallerSkipsTheStore shows what the cache is for: a second
// request with the same token reads nothing, and another user's token is
// not served from the first one's entry.
func TestCachedCallerSkipsTheStore(t *testing.T) {
	e, _ := newCachedEnv(t)
	_, toks := e.register(t, "ada@example.com")
	_, other := e.register(t, "bob@example.com")
	first := e.principal(t, toks.AccessToken)
	e.store.Hook = func(method string) error {
		if method == "GetUserAccess" {
			return ports.Errorf(ports.EUnavailable, "database down")
		}
		return nil
	}
	again := e.principal(t, toks.AccessToken)
	if again.UserID != first.UserID || again.TokenID != first.TokenID {
		t.Fatalf("got %+v from the cache, want %+v", again, first)
	}
	_, err := e.svc.AuthenticateAccess(context.Background(), other.AccessToken)
	wantErr(t, err, ports.EUnavailable, "")
}
