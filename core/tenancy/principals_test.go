package tenancy_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// recordingBus is a ports.RevocationBus that keeps what it was sent and
// fails when told to.
type recordingBus struct {
	mu   sync.Mutex
	sent []ports.Revocation
	fail error
}

func (b *recordingBus) PublishRevocation(_ context.Context, r ports.Revocation) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, r)
	return b.fail
}

func (b *recordingBus) all() []ports.Revocation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ports.Revocation(nil), b.sent...)
}

func userPrincipal(sub ports.SubscriptionID, user ports.UserID, family, token string) ports.Principal {
	return ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: sub, UserID: user, TokenFamily: family, TokenID: token}
}

func TestPrincipalCacheHitsUntilTTLOrExpiry(t *testing.T) {
	clock := coretest.NewClock()
	c := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: 2 * time.Second}, clock, nil, nil)
	long, short := tenancy.CredentialKey("long"), tenancy.CredentialKey("short")
	p := apiKeyPrincipal("sub-1")
	if _, _, ok := c.Lookup(long); ok {
		t.Fatal("got a hit on an empty cache, want a miss")
	}
	_, gen, _ := c.Lookup(long)
	c.Store(long, p, time.Time{}, gen)
	c.Store(short, p, clock.Now().Add(time.Second), gen) // the credential expires first
	if got, _, ok := c.Lookup(long); !ok || got.APIKeyID != p.APIKeyID {
		t.Fatalf("got %v %v, want the stored principal", got, ok)
	}
	clock.Advance(time.Second)
	if _, _, ok := c.Lookup(short); ok {
		t.Error("got a hit at the credential's expiry, want a miss")
	}
	if _, _, ok := c.Lookup(long); !ok {
		t.Error("got a miss within the TTL, want a hit")
	}
	clock.Advance(time.Second)
	if _, _, ok := c.Lookup(long); ok {
		t.Error("got a hit at the TTL, want a miss")
	}
}

func TestPrincipalCacheDropsWhatARevocationCovers(t *testing.T) {
	clock := coretest.NewClock()
	bus := &recordingBus{}
	c := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Minute}, clock, bus, nil)
	entries := map[string]ports.Principal{
		"key":      apiKeyPrincipal("sub-1"),
		"user":     userPrincipal("sub-1", "user-1", "fam-1", "tok-1"),
		"sibling":  userPrincipal("sub-1", "user-1", "fam-2", "tok-2"),
		"other":    userPrincipal("sub-2", "user-2", "fam-3", "tok-3"),
		"otherkey": {Kind: ports.PrincipalAPIKey, SubscriptionID: "sub-2", APIKeyID: "key-2", InstanceID: "inst-2"},
	}
	tests := []struct {
		name string
		r    ports.Revocation
		gone []string
	}{
		{"key", ports.Revocation{APIKeyID: "key-1"}, []string{"key"}},
		{"instance", ports.Revocation{InstanceID: "inst-1"}, []string{"key"}},
		{"token", ports.Revocation{TokenID: "tok-1"}, []string{"user"}},
		{"family", ports.Revocation{TokenFamily: "fam-2"}, []string{"sibling"}},
		{"user", ports.Revocation{UserID: "user-1"}, []string{"user", "sibling"}},
		{"subscription", ports.Revocation{SubscriptionID: "sub-1"}, []string{"key", "user", "sibling"}},
		{"empty", ports.Revocation{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Flush()
			for name, p := range entries {
				_, gen, _ := c.Lookup(tenancy.CredentialKey(name))
				c.Store(tenancy.CredentialKey(name), p, time.Time{}, gen)
			}
			c.Revoke(context.Background(), tt.r)
			for name := range entries {
				_, _, ok := c.Lookup(tenancy.CredentialKey(name))
				want := true
				for _, g := range tt.gone {
					want = want && g != name
				}
				if ok != want {
					t.Errorf("%s: cached %v after the revocation, want %v", name, ok, want)
				}
			}
		})
	}
	// Every non-empty revocation went to the other nodes, once.
	if got := bus.all(); len(got) != len(tests)-1 || got[0] != tests[0].r {
		t.Errorf("bus got %v, want the %d non-empty revocations", got, len(tests)-1)
	}
}

func TestPrincipalCacheRefusesAReadOlderThanADrop(t *testing.T) {
	c := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Minute}, coretest.NewClock(), nil, nil)
	k := tenancy.CredentialKey("wag_x")
	_, gen, _ := c.Lookup(k)
	// The read saw the key; its revocation lands before the read is stored.
	c.Drop(ports.Revocation{APIKeyID: "key-1"})
	c.Store(k, apiKeyPrincipal("sub-1"), time.Time{}, gen)
	if _, _, ok := c.Lookup(k); ok {
		t.Fatal("got a principal read before a revocation cached, want it refused")
	}
	_, gen, _ = c.Lookup(k)
	c.Flush() // a reconnected bus: whatever was in flight is suspect too
	c.Store(k, apiKeyPrincipal("sub-1"), time.Time{}, gen)
	if _, _, ok := c.Lookup(k); ok {
		t.Fatal("got a principal read before a flush cached, want it refused")
	}
}

func TestPrincipalCacheIsBounded(t *testing.T) {
	clock := coretest.NewClock()
	c := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Second, MaxEntries: 2}, clock, nil, nil)
	store := func(name string) {
		_, gen, _ := c.Lookup(tenancy.CredentialKey(name))
		c.Store(tenancy.CredentialKey(name), apiKeyPrincipal("sub-1"), time.Time{}, gen)
	}
	store("a")
	store("b")
	store("c")
	if _, _, ok := c.Lookup(tenancy.CredentialKey("c")); ok {
		t.Error("got a third entry in a cache of two live ones, want it left out")
	}
	clock.Advance(time.Second) // a and b expire
	store("c")
	if _, _, ok := c.Lookup(tenancy.CredentialKey("c")); !ok {
		t.Error("got a miss once expired entries made room, want a hit")
	}
}

func TestPrincipalCacheOffOrBusDown(t *testing.T) {
	var off *tenancy.Principals = tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{}, coretest.NewClock(), nil, nil)
	if off != nil {
		t.Fatal("got a cache for a zero TTL, want none")
	}
	k := tenancy.CredentialKey("x")
	off.Store(k, apiKeyPrincipal("sub-1"), time.Time{}, 0)
	if _, _, ok := off.Lookup(k); ok {
		t.Error("got a hit from no cache, want a miss")
	}
	off.Revoke(context.Background(), ports.Revocation{UserID: "u"}) // must not panic

	bus := &recordingBus{fail: ports.Errorf(ports.EUnavailable, "redis down")}
	c := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Minute}, coretest.NewClock(), bus, nil)
	_, gen, _ := c.Lookup(k)
	c.Store(k, apiKeyPrincipal("sub-1"), time.Time{}, gen)
	c.Revoke(context.Background(), ports.Revocation{SubscriptionID: "sub-1"})
	if _, _, ok := c.Lookup(k); ok {
		t.Error("got a hit after a local revocation whose publish failed, want a miss")
	}
	if len(bus.all()) != 1 {
		t.Errorf("bus got %v, want the one revocation tried", bus.all())
	}
}
