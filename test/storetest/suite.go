// Package storetest is the conformance suite of the store ports (like
// Vault's ExerciseBackend): one set of tests for every method and its error
// contract, run against each implementation. The runners in this package's
// tests exercise the ent adapter on SQLite and on PostgreSQL.
package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/wagate/wagate/ports"
)

// Backend is what the suite exercises.
type Backend interface {
	ports.TxRunner
	Stores() ports.Stores
}

// Run runs the whole suite. open is called once per test and must return an
// empty, migrated backend of its own, closed when t ends.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Subscriptions", testSubscriptions},
		{"SubscriptionUpdate", testSubscriptionUpdate},
		{"SubscriptionPaging", testSubscriptionPaging},
		{"Users", testUsers},
		{"UserUpdate", testUserUpdate},
		{"RefreshTokens", testRefreshTokens},
		{"RefreshTokenUseOnceConcurrently", testRefreshTokenRace},
		{"RefreshTokenRevocation", testRefreshRevocation},
		{"DenyList", testDenyList},
		{"PurgeExpiredTokens", testPurge},
		{"Instances", testInstances},
		{"InstanceUpdate", testInstanceUpdate},
		{"InstancePaging", testInstancePaging},
		{"InstanceDelete", testInstanceDelete},
		{"APIKeys", testAPIKeys},
		{"APIKeyPaging", testAPIKeyPaging},
		{"Audit", testAudit},
		{"UserAccess", testUserAccess},
		{"UserAccessInTx", testUserAccessInTx},
		{"UserAccount", testUserAccount},
		{"APIKeyAccess", testAPIKeyAccess},
		{"PageLimits", testPageLimits},
		{"BadCursor", testBadCursor},
		{"NULCursor", testNULCursor},
		{"RuneLengths", testRuneLengths},
		{"TxCommitAndRollback", testTx},
		{"TxBinding", testTxBinding},
		{"TxIdempotency", testTxIdempotency},
		{"InstanceLimitRace", testInstanceLimitRace},
		{"Members", testMembers},
		{"Invitations", testInvitations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()})
		})
	}
}

// fixture creates the rows a test needs.
type fixture struct {
	t   *testing.T
	ctx context.Context
	b   Backend
	s   ports.Stores
}

// base is an arbitrary instant off UTC and with nanoseconds, so that the
// suite sees stores return UTC.
var base = time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (f *fixture) subscription() ports.Subscription {
	f.t.Helper()
	s := ports.Subscription{ID: ports.SubscriptionID(newID()), Tier: ports.TierBasic, CreatedAt: base, UpdatedAt: base}
	if err := f.s.Subscriptions.CreateSubscription(f.ctx, s); err != nil {
		f.t.Fatalf("create subscription: %v", err)
	}
	return s
}

func (f *fixture) user(sub ports.SubscriptionID, email string) ports.User {
	f.t.Helper()
	u := ports.User{
		ID: ports.UserID(newID()), SubscriptionID: sub, Email: email, Name: "Ada",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", Role: ports.RoleOwner, MemberRole: ports.MemberOwner,
		TokenVersion: 1, CreatedAt: base, UpdatedAt: base,
	}
	if err := f.s.Users.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("create user: %v", err)
	}
	return u
}

func (f *fixture) instance(sub ports.SubscriptionID, name string) ports.Instance {
	f.t.Helper()
	i := ports.Instance{
		ID: ports.InstanceID(newID()), SubscriptionID: sub, Name: name, Status: ports.StatusCreated,
		CreatedAt: base, UpdatedAt: base,
	}
	if err := f.s.Instances.CreateInstance(f.ctx, sub, i); err != nil {
		f.t.Fatalf("create instance: %v", err)
	}
	return i
}

func (f *fixture) apiKey(sub ports.SubscriptionID, inst ports.InstanceID) ports.APIKey {
	f.t.Helper()
	id := newID()
	k := ports.APIKey{
		ID: ports.APIKeyID(id), SubscriptionID: sub, InstanceID: inst, Name: "ci",
		Prefix: "wag_" + id[len(id)-6:], Hash: hash(id), Scopes: []ports.Scope{ports.ScopeMessagesSend},
		CreatedAt: base,
	}
	if err := f.s.APIKeys.CreateAPIKey(f.ctx, k); err != nil {
		f.t.Fatalf("create api key: %v", err)
	}
	return k
}

func (f *fixture) refreshToken(u ports.User, family string) ports.RefreshToken {
	f.t.Helper()
	id := newID()
	rt := ports.RefreshToken{
		ID: id, UserID: u.ID, SubscriptionID: u.SubscriptionID, FamilyID: family, Hash: hash(id),
		CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
	if err := f.s.Tokens.CreateRefreshToken(f.ctx, rt); err != nil {
		f.t.Fatalf("create refresh token: %v", err)
	}
	return rt
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// sameTime compares instants at microsecond precision, PostgreSQL's.
var sameTime = cmp.Comparer(func(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
})

// diff reports want and got differing beyond storage precision.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, sameTime); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantErr fails unless err carries code (and reason, if not empty).
func wantErr(t *testing.T, what string, err error, code ports.ErrorCode, reason string) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
	if reason == "" {
		return
	}
	if e := ports.AsError(err); e.Reason != reason {
		t.Fatalf("%s: got reason %q, want %q", what, e.Reason, reason)
	}
}

// mustOK fails the test on err.
func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// wantUTC fails unless tm is in UTC: stores hand times back in UTC.
func wantUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s: got location %v, want UTC", what, tm.Location())
	}
}
