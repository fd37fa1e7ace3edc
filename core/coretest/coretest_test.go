package coretest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/ports"
)

func TestInTxRollsBackOnError(t *testing.T) {
	s := coretest.NewStore()
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := st.Subscriptions.CreateSubscription(ctx, ports.Subscription{ID: "sub-1", Tier: ports.TierBasic}); err != nil {
			return err
		}
		if err := st.Audit.AppendAudit(ctx, ports.AuditEntry{ID: "a-1", SubscriptionID: "sub-1"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: got %v, want fn's error", err)
	}
	_, err = s.Stores().Subscriptions.GetSubscription(ctx, "sub-1")
	if !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("subscription after rollback: got %v, want not found", err)
	}
	if n := len(s.Audit()); n != 0 {
		t.Errorf("audit after rollback: got %d entries, want 0", n)
	}
}

func TestStoreUniqueness(t *testing.T) {
	s := coretest.NewStore()
	st := s.Stores()
	ctx := context.Background()
	for _, id := range []ports.SubscriptionID{"sub-1", "sub-2"} {
		if err := st.Subscriptions.CreateSubscription(ctx, ports.Subscription{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Users.CreateUser(ctx, ports.User{ID: "u-1", SubscriptionID: "sub-1", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	err := st.Users.CreateUser(ctx, ports.User{ID: "u-2", SubscriptionID: "sub-2", Email: "a@example.com"})
	if e := ports.AsError(err); e == nil || e.Code != ports.EConflict || e.Reason != "email_taken" {
		t.Errorf("duplicate email: got %v, want conflict email_taken", err)
	}
	if err := st.Instances.CreateInstance(ctx, "sub-1", ports.Instance{ID: "i-1", Name: "main"}); err != nil {
		t.Fatal(err)
	}
	err = st.Instances.CreateInstance(ctx, "sub-1", ports.Instance{ID: "i-2", Name: "main"})
	if e := ports.AsError(err); e == nil || e.Code != ports.EConflict || e.Reason != "name_taken" {
		t.Errorf("duplicate name: got %v, want conflict name_taken", err)
	}
	if err := st.Instances.CreateInstance(ctx, "sub-2", ports.Instance{ID: "i-3", Name: "main"}); err != nil {
		t.Errorf("same name in another subscription: got %v, want success", err)
	}
	if _, err := st.Instances.GetInstance(ctx, "sub-2", "i-1"); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another tenant's instance: got %v, want not found", err)
	}
}

func TestUseRefreshTokenOnce(t *testing.T) {
	s := coretest.NewStore()
	st := s.Stores()
	ctx := context.Background()
	if err := st.Tokens.CreateRefreshToken(ctx, ports.RefreshToken{ID: "rt-1", Hash: []byte("h"), FamilyID: "f"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Tokens.UseRefreshToken(ctx, "rt-1", coretest.Epoch); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := st.Tokens.UseRefreshToken(ctx, "rt-1", coretest.Epoch); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("second use: got %v, want conflict", err)
	}
}

func TestLimiterWindows(t *testing.T) {
	clock := coretest.NewClock()
	l := coretest.NewLimiter(clock)
	ctx := context.Background()
	lim := ports.Limit{Count: 2, Period: time.Minute}
	for i, want := range []ports.RateResult{
		{Limit: 2, Remaining: 1, Reset: coretest.Epoch.Add(time.Minute)},
		{Limit: 2, Remaining: 0, Reset: coretest.Epoch.Add(time.Minute)},
		{Limit: 2, Remaining: 0, Reset: coretest.Epoch.Add(time.Minute), Reached: true},
	} {
		got, _ := l.Take(ctx, "k", lim)
		if got != want {
			t.Errorf("take %d: got %+v, want %+v", i+1, got, want)
		}
	}
	if got, _ := l.Peek(ctx, "k", lim); !got.Reached {
		t.Errorf("peek over the limit: got %+v, want reached", got)
	}
	clock.Advance(time.Minute)
	if got, _ := l.Peek(ctx, "k", lim); got.Reached || got.Remaining != 2 {
		t.Errorf("peek in the next window: got %+v, want 2 remaining", got)
	}
}

func TestTokenIssuer(t *testing.T) {
	clock := coretest.NewClock()
	ti := coretest.NewTokenIssuer(clock)
	tok, _ := ti.Issue(ports.AccessClaims{TokenID: "t", ExpiresAt: clock.Now().Add(time.Minute)})
	if c, err := ti.Verify(tok); err != nil || c.TokenID != "t" {
		t.Errorf("verify: got %+v, %v; want the claims", c, err)
	}
	if _, err := ti.Verify(tok + "x"); ports.AsError(err) == nil || ports.AsError(err).Reason != "unauthorized" {
		t.Errorf("forged: got %v, want unauthorized", err)
	}
	clock.Advance(time.Minute)
	if _, err := ti.Verify(tok); ports.AsError(err) == nil || ports.AsError(err).Reason != "token_expired" {
		t.Errorf("expired: got %v, want token_expired", err)
	}
}
