package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testMembers(t *testing.T, f *fixture) {
	st := f.s.Members
	sub, other := f.subscription(), f.subscription()
	owner := f.user(sub.ID, "owner@example.com")
	dev := f.user(sub.ID, "dev@example.com")
	_, err := f.s.Users.UpdateUser(f.ctx, dev.ID, func(u *ports.User) error {
		u.MemberRole = ports.MemberDeveloper
		return nil
	})
	mustOK(t, "set role", err)
	f.user(other.ID, "eve@example.com")

	all, owners, err := st.CountMembers(f.ctx, sub.ID)
	mustOK(t, "count members", err)
	if all != 2 || owners != 1 {
		t.Fatalf("count members: got %d members, %d owners; want 2, 1", all, owners)
	}
	page, err := st.ListMembers(f.ctx, sub.ID, ports.PageRequest{Limit: 1})
	mustOK(t, "list members", err)
	if len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("list members page 1: got %d items, next %q; want 1 and a cursor", len(page.Items), page.Next)
	}
	rest, err := st.ListMembers(f.ctx, sub.ID, ports.PageRequest{Limit: 1, After: page.Next})
	mustOK(t, "list members page 2", err)
	got := append(page.Items, rest.Items...)
	if len(got) != 2 || rest.Next != "" {
		t.Fatalf("list members: got %d members, next %q; want 2 and no cursor", len(got), rest.Next)
	}
	roles := map[ports.UserID]ports.MemberRole{}
	for _, u := range got {
		if u.PasswordHash != "" || u.SubscriptionID != sub.ID {
			t.Fatalf("list members: got %+v, want the tenant's users without hashes", u)
		}
		roles[u.ID] = u.MemberRole
	}
	if roles[owner.ID] != ports.MemberOwner || roles[dev.ID] != ports.MemberDeveloper {
		t.Fatalf("list members: got roles %v, want owner and developer", roles)
	}

	err = st.DeleteMember(f.ctx, other.ID, dev.ID)
	wantErr(t, "delete another tenant's member", err, ports.ENotFound, "")
	rt := ports.RefreshToken{ID: newID(), UserID: dev.ID, SubscriptionID: sub.ID, FamilyID: newID(),
		Hash: hashOf("dev-refresh"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	mustOK(t, "create refresh token", f.s.Tokens.CreateRefreshToken(f.ctx, rt))
	mustOK(t, "delete member", st.DeleteMember(f.ctx, sub.ID, dev.ID))
	_, err = f.s.Users.GetUser(f.ctx, dev.ID)
	wantErr(t, "get a deleted member", err, ports.ENotFound, "")
	_, err = f.s.Tokens.GetRefreshToken(f.ctx, rt.Hash)
	wantErr(t, "get a deleted member's refresh token", err, ports.ENotFound, "")
	err = st.DeleteMember(f.ctx, sub.ID, dev.ID)
	wantErr(t, "delete a member twice", err, ports.ENotFound, "")
}

func testInvitations(t *testing.T, f *fixture) {
	st := f.s.Invitations
	sub, other := f.subscription(), f.subscription()
	now := base.Add(time.Hour)
	inv := func(s ports.SubscriptionID, token string, expires time.Time) ports.Invitation {
		i := ports.Invitation{ID: newID(), SubscriptionID: s, Email: token + "@example.com", Role: ports.MemberViewer,
			Hash: hashOf(token), InvitedBy: ports.UserID(newID()), CreatedAt: base, ExpiresAt: expires}
		mustOK(t, "create invitation", st.CreateInvitation(f.ctx, i))
		return i
	}
	live := inv(sub.ID, "live", now.Add(time.Hour))
	inv(sub.ID, "expired", now.Add(-time.Minute))
	inv(other.ID, "theirs", now.Add(time.Hour))
	dup := live
	dup.ID = newID()
	wantErr(t, "create an invitation with a taken hash", st.CreateInvitation(f.ctx, dup), ports.EConflict, "")

	got, err := st.GetInvitationByHash(f.ctx, hashOf("live"))
	mustOK(t, "get invitation", err)
	diff(t, "invitation", live, got)
	wantUTC(t, "expires at", got.ExpiresAt)
	_, err = st.GetInvitationByHash(f.ctx, hashOf("nope"))
	wantErr(t, "get unknown invitation", err, ports.ENotFound, "")

	page, err := st.ListInvitations(f.ctx, sub.ID, now, ports.PageRequest{})
	mustOK(t, "list invitations", err)
	if len(page.Items) != 1 || page.Items[0].ID != live.ID {
		t.Fatalf("list invitations: got %+v, want only the pending one", page.Items)
	}
	if n, err := st.CountInvitations(f.ctx, sub.ID, now); err != nil || n != 1 {
		t.Fatalf("count invitations: got %d, %v; want 1", n, err)
	}

	mustOK(t, "use invitation", st.UseInvitation(f.ctx, live.ID, now))
	wantErr(t, "use an invitation twice", st.UseInvitation(f.ctx, live.ID, now), ports.EConflict, "")
	got, err = st.GetInvitationByHash(f.ctx, hashOf("live"))
	mustOK(t, "get used invitation", err)
	if got.AcceptedAt == nil || !got.AcceptedAt.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("used invitation: got acceptedAt %v, want %v", got.AcceptedAt, now)
	}
	if n, _ := st.CountInvitations(f.ctx, sub.ID, now); n != 0 {
		t.Fatalf("count invitations after use: got %d, want 0", n)
	}

	again := inv(sub.ID, "again", now.Add(time.Hour))
	wantErr(t, "delete another tenant's invitation", st.DeleteInvitation(f.ctx, other.ID, again.ID), ports.ENotFound, "")
	mustOK(t, "delete invitation", st.DeleteInvitation(f.ctx, sub.ID, again.ID))
	wantErr(t, "delete an invitation twice", st.DeleteInvitation(f.ctx, sub.ID, again.ID), ports.ENotFound, "")
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
