package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testRefreshTokens(t *testing.T, f *fixture) {
	st := f.s.Tokens
	u := f.user(f.subscription().ID, "ada@example.com")
	want := f.refreshToken(u, newID())

	got, err := st.GetRefreshToken(f.ctx, want.Hash)
	mustOK(t, "get refresh token", err)
	diff(t, "refresh token", want, got)
	wantUTC(t, "expires at", got.ExpiresAt)

	_, err = st.GetRefreshToken(f.ctx, hash("unknown"))
	wantErr(t, "get unknown refresh token", err, ports.ENotFound, "")

	dup := want
	dup.ID = newID()
	wantErr(t, "create token with a taken hash", st.CreateRefreshToken(f.ctx, dup), ports.EConflict, "")

	usedAt := base.Add(time.Minute)
	mustOK(t, "use refresh token", st.UseRefreshToken(f.ctx, want.ID, usedAt))
	got, err = st.GetRefreshToken(f.ctx, want.Hash)
	mustOK(t, "get used refresh token", err)
	if got.UsedAt == nil || !got.UsedAt.Equal(usedAt.Truncate(time.Microsecond)) {
		t.Errorf("used at: got %v, want %v", got.UsedAt, usedAt)
	}
	wantErr(t, "use a spent token", st.UseRefreshToken(f.ctx, want.ID, usedAt), ports.EConflict, "")

	revoked := f.refreshToken(u, newID())
	mustOK(t, "revoke family", st.RevokeRefreshFamily(f.ctx, revoked.FamilyID, usedAt))
	wantErr(t, "use a revoked token", st.UseRefreshToken(f.ctx, revoked.ID, usedAt), ports.EConflict, "")

	wantErr(t, "use a missing token", st.UseRefreshToken(f.ctx, newID(), usedAt), ports.ENotFound, "")
}

// testRefreshTokenRace checks that a refresh token is spent exactly once
// when many requests present it at the same time.
func testRefreshTokenRace(t *testing.T, f *fixture) {
	u := f.user(f.subscription().ID, "ada@example.com")
	rt := f.refreshToken(u, newID())
	const n = 20
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok        int
		conflicts int
		others    []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := f.s.Tokens.UseRefreshToken(f.ctx, rt.ID, time.Now())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case ports.IsCode(err, ports.EConflict):
				conflicts++
			default:
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok != 1 || conflicts != n-1 || len(others) > 0 {
		t.Errorf("got %d successes, %d conflicts, other errors %v; want 1, %d, none", ok, conflicts, others, n-1)
	}
}

func testRefreshRevocation(t *testing.T, f *fixture) {
	st := f.s.Tokens
	sub := f.subscription()
	ada, bob := f.user(sub.ID, "ada@example.com"), f.user(sub.ID, "bob@example.com")
	famA, famB := newID(), newID()
	a1, a2, a3 := f.refreshToken(ada, famA), f.refreshToken(ada, famA), f.refreshToken(ada, famB)
	b1 := f.refreshToken(bob, newID())
	at := base.Add(time.Hour)

	mustOK(t, "revoke family", st.RevokeRefreshFamily(f.ctx, famA, at))
	wantRevoked(t, f, map[string]bool{"a1": true, "a2": true, "a3": false, "b1": false},
		map[string]ports.RefreshToken{"a1": a1, "a2": a2, "a3": a3, "b1": b1})

	// A second revocation keeps the first time.
	mustOK(t, "revoke family again", st.RevokeRefreshFamily(f.ctx, famA, at.Add(time.Hour)))
	got, err := st.GetRefreshToken(f.ctx, a1.Hash)
	mustOK(t, "get token", err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("revoked at after a second revocation: got %v, want %v", got.RevokedAt, at)
	}

	mustOK(t, "revoke user tokens", st.RevokeUserRefreshTokens(f.ctx, ada.ID, at))
	wantRevoked(t, f, map[string]bool{"a1": true, "a2": true, "a3": true, "b1": false},
		map[string]ports.RefreshToken{"a1": a1, "a2": a2, "a3": a3, "b1": b1})
}

func wantRevoked(t *testing.T, f *fixture, want map[string]bool, tokens map[string]ports.RefreshToken) {
	t.Helper()
	for name, rt := range tokens {
		got, err := f.s.Tokens.GetRefreshToken(f.ctx, rt.Hash)
		mustOK(t, "get token "+name, err)
		if revoked := got.RevokedAt != nil; revoked != want[name] {
			t.Errorf("token %s revoked: got %v, want %v", name, revoked, want[name])
		}
	}
}

func testDenyList(t *testing.T, f *fixture) {
	st := f.s.Tokens
	u := f.user(f.subscription().ID, "ada@example.com")
	jti := newID()
	wantDenied(t, f, u.ID, jti, "", false)
	mustOK(t, "deny token", st.DenyAccessToken(f.ctx, jti, base.Add(15*time.Minute)))
	mustOK(t, "deny token twice", st.DenyAccessToken(f.ctx, jti, base.Add(15*time.Minute)))
	wantDenied(t, f, u.ID, jti, "", true)

	// A denied family denies every access token of the family, whatever
	// its jti; other families are not touched.
	fam, other := newID(), newID()
	wantDenied(t, f, u.ID, newID(), fam, false)
	mustOK(t, "deny family", st.DenyAccessToken(f.ctx, fam, base.Add(15*time.Minute)))
	wantDenied(t, f, u.ID, newID(), fam, true)
	wantDenied(t, f, u.ID, newID(), other, false)
}

// wantDenied checks the deny-list through the read that consults it.
func wantDenied(t *testing.T, f *fixture, u ports.UserID, jti, family string, want bool) {
	t.Helper()
	a, err := f.s.Access.GetUserAccess(f.ctx, u, jti, family)
	mustOK(t, "get user access", err)
	if a.Denied != want {
		t.Errorf("token %s of family %q denied: got %v, want %v", jti, family, a.Denied, want)
	}
}

func testPurge(t *testing.T, f *fixture) {
	st := f.s.Tokens
	u := f.user(f.subscription().ID, "ada@example.com")
	old := ports.RefreshToken{
		ID: newID(), UserID: u.ID, SubscriptionID: u.SubscriptionID, FamilyID: newID(),
		Hash: hash("old"), CreatedAt: base, ExpiresAt: base.Add(time.Hour),
	}
	mustOK(t, "create expiring token", st.CreateRefreshToken(f.ctx, old))
	live := f.refreshToken(u, newID()) // expires in 30 days
	oldJTI, liveJTI := newID(), newID()
	mustOK(t, "deny old jti", st.DenyAccessToken(f.ctx, oldJTI, base.Add(time.Minute)))
	mustOK(t, "deny live jti", st.DenyAccessToken(f.ctx, liveJTI, base.Add(48*time.Hour)))

	n, err := st.PurgeExpiredTokens(f.ctx, base.Add(24*time.Hour))
	mustOK(t, "purge", err)
	if n != 2 {
		t.Errorf("purged rows: got %d, want 2", n)
	}
	_, err = st.GetRefreshToken(f.ctx, old.Hash)
	wantErr(t, "get purged token", err, ports.ENotFound, "")
	_, err = st.GetRefreshToken(f.ctx, live.Hash)
	mustOK(t, "get live token", err)
	wantDenied(t, f, u.ID, oldJTI, "", false)
	wantDenied(t, f, u.ID, liveJTI, "", true)
}
