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
	e := newEnvWith(t, true)
	reads := new(int)
	e.store.Hook = func(method string) error {
		if method == "GetAPIKeyAccess" {
			*reads++
		}
		return nil
	}
	return e, reads
}

// newEnvWith is newEnv for tests and benchmarks, with a principal cache
// whose TTL outlasts them when cached.
func newEnvWith(tb testing.TB, cached bool) *env {
	tb.Helper()
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}}
	var cache *tenancy.Principals
	if cached {
		cache = tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Hour}, e.clock, nil, nil)
	}
	e.svc = keys.New(keys.Deps{Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids, Principals: cache})
	e.owner = e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "ada@example.com")
	e.inst = ports.InstanceID(e.ids.NewID())
	err := e.store.Stores().Instances.CreateInstance(context.Background(), e.owner.SubscriptionID, ports.Instance{
		ID: e.inst, Name: "main", Status: ports.StatusCreated, CreatedAt: e.clock.Now(),
	})
	if err != nil {
		tb.Fatalf("create instance: %v", err)
	}
	return e
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

// BenchmarkAuthenticate compares a key read from the store on every
// request with one served by the principal cache (go test -bench
// Authenticate ./core/keys): the figure the accept path saves per request,
// before the round trip to a real database is even counted.
func BenchmarkAuthenticate(b *testing.B) {
	for _, cached := range []bool{false, true} {
		b.Run(map[bool]string{false: "store", true: "cached"}[cached], func(b *testing.B) {
			e := newEnvWith(b, cached)
			k, err := e.svc.Create(context.Background(), e.owner, e.inst, keys.CreateCmd{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.svc.Authenticate(context.Background(), k.Key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
