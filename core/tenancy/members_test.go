package tenancy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// join invites email with role in p's subscription and accepts.
func (e *env) join(t *testing.T, p ports.Principal, email string, role ports.MemberRole) (tenancy.Account, tenancy.Tokens) {
	t.Helper()
	inv, err := e.svc.Invite(context.Background(), p, tenancy.InviteCmd{Email: email, Role: role})
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	acc, toks, err := e.svc.AcceptInvitation(context.Background(), tenancy.AcceptCmd{Token: inv.Token, Password: "correct horse", Name: "Bo"})
	if err != nil {
		t.Fatalf("accept %s: %v", email, err)
	}
	return acc, toks
}

// TestMemberChangesRevokeTheCachedMember: a role change and a removal
// drop the member's cached principal here and on the other nodes, so the
// next request reads the new role, or fails.
func TestMemberChangesRevokeTheCachedMember(t *testing.T) {
	ctx := context.Background()
	e, bus := newCachedEnv(t)
	_, ownerToks := e.register(t, "owner@example.com")
	owner := e.principal(t, ownerToks.AccessToken)
	acc, toks := e.join(t, owner, "dev@example.com", ports.MemberDeveloper)
	if p := e.principal(t, toks.AccessToken); p.MemberRole != ports.MemberDeveloper || p.SubscriptionID != owner.SubscriptionID {
		t.Fatalf("got %s in %s, want developer in %s", p.MemberRole, p.SubscriptionID, owner.SubscriptionID)
	}
	if _, err := e.svc.ChangeRole(ctx, owner, acc.User.ID, ports.MemberViewer); err != nil {
		t.Fatalf("change role: %v", err)
	}
	if p := e.principal(t, toks.AccessToken); p.MemberRole != ports.MemberViewer {
		t.Fatalf("got role %s after the change, want viewer read again", p.MemberRole)
	}
	if err := e.svc.RemoveMember(ctx, owner, acc.User.ID); err != nil {
		t.Fatalf("remove: %v", err)
	}
	_, err := e.svc.AuthenticateAccess(ctx, toks.AccessToken)
	wantErr(t, err, ports.EUnauthorized, "unauthorized")
	n := 0
	for _, r := range bus.all() {
		if r == (ports.Revocation{UserID: acc.User.ID}) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("bus got %+v, want the member's revocation twice (role change, removal)", bus.all())
	}
}

// TestMemberRules is SPEC §17's rules, one case each.
func TestMemberRules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, tenancy.Config{})
	_, ownerToks := e.register(t, "owner@example.com")
	owner := e.principal(t, ownerToks.AccessToken)
	admAcc, admToks := e.join(t, owner, "admin@example.com", ports.MemberAdmin)
	adm := e.principal(t, admToks.AccessToken)
	devAcc, devToks := e.join(t, owner, "dev@example.com", ports.MemberDeveloper)
	dev := e.principal(t, devToks.AccessToken)
	_, otherToks := e.register(t, "other@example.com")
	other := e.principal(t, otherToks.AccessToken)

	_, err := e.svc.Invite(ctx, owner, tenancy.InviteCmd{Email: "x@example.com", Role: ports.MemberOwner})
	wantErr(t, err, ports.EInvalid, "")
	_, err = e.svc.Invite(ctx, dev, tenancy.InviteCmd{Email: "x@example.com", Role: ports.MemberViewer})
	wantErr(t, err, ports.EForbidden, "insufficient_role")
	_, err = e.svc.Invite(ctx, apiKeyPrincipal(owner.SubscriptionID), tenancy.InviteCmd{Email: "x@example.com", Role: ports.MemberViewer})
	wantErr(t, err, ports.EForbidden, "forbidden")
	_, err = e.svc.Invite(ctx, owner, tenancy.InviteCmd{Email: "other@example.com", Role: ports.MemberViewer})
	wantErr(t, err, ports.EConflict, "email_taken")

	_, err = e.svc.ChangeRole(ctx, other, devAcc.User.ID, ports.MemberViewer)
	wantErr(t, err, ports.ENotFound, "")
	_, err = e.svc.ChangeRole(ctx, adm, admAcc.User.ID, ports.MemberOwner)
	wantErr(t, err, ports.EForbidden, "insufficient_role")
	_, err = e.svc.ChangeRole(ctx, adm, owner.UserID, ports.MemberViewer)
	wantErr(t, err, ports.EForbidden, "insufficient_role")
	_, err = e.svc.ChangeRole(ctx, owner, owner.UserID, ports.MemberAdmin)
	wantErr(t, err, ports.EConflict, "last_owner")
	err = e.svc.RemoveMember(ctx, owner, owner.UserID)
	wantErr(t, err, ports.EConflict, "last_owner")
	err = e.svc.RemoveMember(ctx, adm, owner.UserID)
	wantErr(t, err, ports.EForbidden, "insufficient_role")
	_, err = e.svc.ChangeRole(ctx, owner, devAcc.User.ID, "boss")
	wantErr(t, err, ports.EInvalid, "")

	// The transfer: the owner steps down to admin, in one transaction.
	if _, err := e.svc.ChangeRole(ctx, owner, admAcc.User.ID, ports.MemberOwner); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if p := e.principal(t, ownerToks.AccessToken); p.MemberRole != ports.MemberAdmin {
		t.Fatalf("got the former owner's role %s, want admin", p.MemberRole)
	}

	// Members and pending invitations together stop at MaxMembers.
	newOwner := e.principal(t, admToks.AccessToken)
	members, err := e.svc.ListMembers(ctx, newOwner, ports.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(members.Items); i < tenancy.MaxMembers; i++ {
		if _, err := e.svc.Invite(ctx, newOwner, tenancy.InviteCmd{Email: fmt.Sprintf("m%d@example.com", i), Role: ports.MemberViewer}); err != nil {
			t.Fatalf("invite %d: %v", i, err)
		}
	}
	_, err = e.svc.Invite(ctx, newOwner, tenancy.InviteCmd{Email: "one-more@example.com", Role: ports.MemberViewer})
	wantErr(t, err, ports.EConflict, "member_limit_reached")
}
