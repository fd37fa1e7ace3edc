package ratelimit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/ratelimit"
	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

// The account lockout of core/tenancy must hold on each real store however
// the guesses arrive: 30 wrong passwords sent together get at most 10
// password checks (401) and 429 for the rest.
func TestLoginLockoutParallelGuesses(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testParallelGuesses(t, ratelimit.NewMemory()) })
	t.Run("redis", func(t *testing.T) {
		url, prefix := testdb.Redis(t)
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		client := redis.NewClient(opts)
		t.Cleanup(func() { _ = client.Close() })
		l, err := ratelimit.NewRedis(client, strings.TrimSuffix(prefix, ":"))
		if err != nil {
			t.Fatal(err)
		}
		testParallelGuesses(t, l)
	})
}

func testParallelGuesses(t *testing.T, l ports.RateLimiter) {
	const guesses = 30
	ctx := context.Background()
	store, clock := coretest.NewStore(), coretest.NewClock()
	h := coretest.NewGatedHasher(guesses)
	svc := tenancy.New(tenancy.Deps{
		Tx: store, Stores: store.Stores(), Clock: clock, IDs: &coretest.IDs{},
		Hasher: h, Tokens: coretest.NewTokenIssuer(clock), Limiter: l,
	}, tenancy.Config{})
	if _, _, err := svc.Register(ctx, tenancy.RegisterCmd{Email: "ada@example.com", Password: "correct horse", Name: "Ada"}); err != nil {
		t.Fatalf("register: %v", err)
	}
	errs := h.RunAtGate(guesses, func() error {
		_, _, err := svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "wrong horse"})
		return err
	})
	counts := coretest.Reasons(errs)
	if counts["invalid_credentials"] > 10 || counts["invalid_credentials"]+counts["rate_limited"] != guesses {
		t.Fatalf("got %v, want at most 10 invalid_credentials and the rest rate_limited", counts)
	}
}
