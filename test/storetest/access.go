package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// withoutHash is u as the access reads return it.
func withoutHash(u ports.User) ports.User {
	u.PasswordHash = ""
	return u
}

func testUserAccess(t *testing.T, f *fixture) {
	st := f.s.Access
	sub := f.subscription()
	u := f.user(sub.ID, "ada@example.com")
	jti := newID()

	got, err := st.GetUserAccess(f.ctx, u.ID, jti, "")
	mustOK(t, "get user access", err)
	diff(t, "user access", ports.UserAccess{User: withoutHash(u), Subscription: sub}, got)
	wantUTC(t, "user created at", got.User.CreatedAt)
	wantUTC(t, "subscription created at", got.Subscription.CreatedAt)

	mustOK(t, "deny token", f.s.Tokens.DenyAccessToken(f.ctx, jti, base.Add(15*time.Minute)))
	got, err = st.GetUserAccess(f.ctx, u.ID, jti, "")
	mustOK(t, "get user access with a denied token", err)
	if !got.Denied {
		t.Errorf("denied: got false, want true")
	}
	got, err = st.GetUserAccess(f.ctx, u.ID, newID(), "")
	mustOK(t, "get user access with another token", err)
	if got.Denied {
		t.Errorf("denied for another token: got true, want false")
	}

	// A tier change and a new token version show at once.
	_, err = f.s.Subscriptions.UpdateSubscription(f.ctx, sub.ID, func(s *ports.Subscription) error {
		s.Tier = ports.TierMax
		return nil
	})
	mustOK(t, "update subscription", err)
	_, err = f.s.Users.UpdateUser(f.ctx, u.ID, func(u *ports.User) error {
		u.TokenVersion++
		return nil
	})
	mustOK(t, "update user", err)
	got, err = st.GetUserAccess(f.ctx, u.ID, jti, "")
	mustOK(t, "get user access after changes", err)
	if got.Subscription.Tier != ports.TierMax || got.User.TokenVersion != u.TokenVersion+1 {
		t.Errorf("after changes: got tier %q, version %d; want %q, %d",
			got.Subscription.Tier, got.User.TokenVersion, ports.TierMax, u.TokenVersion+1)
	}

	_, err = st.GetUserAccess(f.ctx, ports.UserID(newID()), jti, "")
	wantErr(t, "get access of a missing user", err, ports.ENotFound, "")
}

func testUserAccessInTx(t *testing.T, f *fixture) {
	u := f.user(f.subscription().ID, "ada@example.com")
	jti := newID()
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		mustOK(t, "deny token", s.Tokens.DenyAccessToken(ctx, jti, base.Add(15*time.Minute)))
		got, err := s.Access.GetUserAccess(ctx, u.ID, jti, "")
		mustOK(t, "get user access in the transaction", err)
		if !got.Denied {
			t.Errorf("denied inside the transaction: got false, want true")
		}
		return nil
	})
	mustOK(t, "transaction", err)
}

func testUserAccount(t *testing.T, f *fixture) {
	st := f.s.Access
	sub, other := f.subscription(), f.subscription()
	u := f.user(sub.ID, "ada@example.com")

	got, err := st.GetUserAccount(f.ctx, sub.ID, u.ID)
	mustOK(t, "get account", err)
	diff(t, "account", ports.UserAccount{User: withoutHash(u), Subscription: sub}, got)
	wantUTC(t, "subscription updated at", got.Subscription.UpdatedAt)

	first := f.instance(sub.ID, "sales")
	f.instance(sub.ID, "support")
	f.instance(other.ID, "sales")
	got, err = st.GetUserAccount(f.ctx, sub.ID, u.ID)
	mustOK(t, "get account with instances", err)
	if got.Instances != 2 {
		t.Errorf("instances: got %d, want 2", got.Instances)
	}
	mustOK(t, "delete instance", f.s.Instances.DeleteInstance(f.ctx, sub.ID, first.ID))
	got, err = st.GetUserAccount(f.ctx, sub.ID, u.ID)
	mustOK(t, "get account after a delete", err)
	if got.Instances != 1 {
		t.Errorf("instances after a delete: got %d, want 1", got.Instances)
	}

	_, err = st.GetUserAccount(f.ctx, other.ID, u.ID)
	wantErr(t, "get account as another tenant", err, ports.ENotFound, "")
	_, err = st.GetUserAccount(f.ctx, sub.ID, ports.UserID(newID()))
	wantErr(t, "get account of a missing user", err, ports.ENotFound, "")
}

func testAPIKeyAccess(t *testing.T, f *fixture) {
	st := f.s.Access
	sub := f.subscription()
	in := f.instance(sub.ID, "sales")
	expires := base.Add(90 * 24 * time.Hour)
	id := newID()
	want := ports.APIKey{
		ID: ports.APIKeyID(id), SubscriptionID: sub.ID, InstanceID: in.ID, Name: "ci", Prefix: "wag_abc123",
		Hash: hash(id), Scopes: []ports.Scope{ports.ScopeMessagesSend, ports.ScopeInstanceRead},
		CreatedAt: base, ExpiresAt: &expires,
	}
	mustOK(t, "create api key", f.s.APIKeys.CreateAPIKey(f.ctx, want))

	got, err := st.GetAPIKeyAccess(f.ctx, want.Hash)
	mustOK(t, "get api key access", err)
	diff(t, "api key access", ports.APIKeyAccess{Key: want, Subscription: sub}, got)
	wantUTC(t, "expires at", *got.Key.ExpiresAt)
	wantUTC(t, "created at", got.Key.CreatedAt)

	used := base.Add(time.Minute)
	mustOK(t, "touch key", f.s.APIKeys.TouchAPIKey(f.ctx, want.ID, used))
	_, err = f.s.Subscriptions.UpdateSubscription(f.ctx, sub.ID, func(s *ports.Subscription) error {
		s.Tier = ports.TierPro
		return nil
	})
	mustOK(t, "update subscription", err)
	got, err = st.GetAPIKeyAccess(f.ctx, want.Hash)
	mustOK(t, "get touched key access", err)
	if got.Key.LastUsedAt == nil || !got.Key.LastUsedAt.Equal(used.Truncate(time.Microsecond)) {
		t.Errorf("last used at: got %v, want %v", got.Key.LastUsedAt, used)
	}
	if got.Subscription.Tier != ports.TierPro {
		t.Errorf("tier after a change: got %q, want %q", got.Subscription.Tier, ports.TierPro)
	}

	bare := f.apiKey(sub.ID, in.ID) // no expiry, one scope
	got, err = st.GetAPIKeyAccess(f.ctx, bare.Hash)
	mustOK(t, "get bare key access", err)
	diff(t, "bare key", bare, got.Key)

	_, err = st.GetAPIKeyAccess(f.ctx, hash("unknown"))
	wantErr(t, "get unknown key access", err, ports.ENotFound, "")
	mustOK(t, "delete key", f.s.APIKeys.DeleteAPIKey(f.ctx, sub.ID, in.ID, want.ID))
	_, err = st.GetAPIKeyAccess(f.ctx, want.Hash)
	wantErr(t, "get deleted key access", err, ports.ENotFound, "")
}
