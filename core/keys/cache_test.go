package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// newCachedEnv is newEnv with a principal cache whose TTL outlasts the
// test, and a hook that counts the key reads.
func newCachedEnv(t *testing.T) (*env, *int) {
	t.Helper()
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}}
	cache := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Hour}, e.clock, nil, nil)
	e.svc = keys.New(keys.Deps{Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids, Principals: cache})
	e.owner = e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "ada@example.com")
	e.inst = e.instance(t, e.owner, "main")
	reads := new(int)
	e.store.Hook = func(method string) error {
		if method == "GetAPIKeyAccess" {
			*reads++
		}
		return nil
	}
	return e, reads
}

func TestCachedKeyIsReadOnceAndRevokedAtOnce(t *testing.T) {
	e, reads := newCachedEnv(t)
	ctx := context.Background()
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci"})
	for range 3 {
		if _, err := e.svc.Authenticate(ctx, k.Key); err != nil {
			t.Fatalf("authenticate: %v", err)
		}
	}
	if *reads != 1 {
		t.Errorf("got %d key reads for 3 requests, want 1", *reads)
	}
	if err := e.svc.Delete(ctx, e.owner, e.inst, k.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := e.svc.Authenticate(ctx, k.Key)
	wantErr(t, err, ports.EUnauthorized, "unauthorized")
}

func TestCachedKeyExpiresWithTheKey(t *testing.T) {
	e, _ := newCachedEnv(t)
	ctx := context.Background()
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci", ExpiresAt: timeAt(e.clock.Now().Add(30 * time.Second))})
	if _, err := e.svc.Authenticate(ctx, k.Key); err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	_, err := e.svc.Authenticate(ctx, k.Key)
	wantErr(t, err, ports.EUnauthorized, "token_expired")
}
