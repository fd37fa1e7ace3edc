package coretest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

var (
	_ ports.MemberStore     = view{}
	_ ports.InvitationStore = view{}
)

// ListMembers pages through a subscription's users by id, without hashes.
func (v view) ListMembers(_ context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.User], error) {
	d, done, err := v.enter("ListMembers")
	if err != nil {
		return ports.Page[ports.User]{}, err
	}
	defer done()
	var mine []ports.User
	for _, u := range d.users {
		if u.SubscriptionID == sub {
			u.PasswordHash = ""
			mine = append(mine, u)
		}
	}
	slices.SortFunc(mine, func(a, b ports.User) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return pageOf(mine, func(u ports.User) string { return string(u.ID) }, page)
}

// CountMembers counts a subscription's users and owners.
func (v view) CountMembers(_ context.Context, sub ports.SubscriptionID) (int, int, error) {
	d, done, err := v.enter("CountMembers")
	if err != nil {
		return 0, 0, err
	}
	defer done()
	all, owners := 0, 0
	for _, u := range d.users {
		if u.SubscriptionID == sub {
			all++
			if u.MemberRole == ports.MemberOwner {
				owners++
			}
		}
	}
	return all, owners, nil
}

// DeleteMember deletes the user and their refresh tokens.
func (v view) DeleteMember(_ context.Context, sub ports.SubscriptionID, id ports.UserID) error {
	d, done, err := v.enter("DeleteMember")
	if err != nil {
		return err
	}
	defer done()
	if u, ok := d.users[id]; !ok || u.SubscriptionID != sub {
		return notFound("member")
	}
	delete(d.users, id)
	maps.DeleteFunc(d.refresh, func(_ string, t ports.RefreshToken) bool { return t.UserID == id })
	return nil
}

// CreateInvitation stores inv; EConflict if the id or hash exists.
func (v view) CreateInvitation(_ context.Context, inv ports.Invitation) error {
	d, done, err := v.enter("CreateInvitation")
	if err != nil {
		return err
	}
	defer done()
	for _, o := range d.invites {
		if o.ID == inv.ID || string(o.Hash) == string(inv.Hash) {
			return ports.Errorf(ports.EConflict, "invitation exists")
		}
	}
	inv.Hash = slices.Clone(inv.Hash)
	d.invites[inv.ID] = inv
	return nil
}

func pendingInvite(inv ports.Invitation, sub ports.SubscriptionID, now time.Time) bool {
	return inv.SubscriptionID == sub && inv.AcceptedAt == nil && inv.ExpiresAt.After(now)
}

// ListInvitations pages through the pending invitations by id.
func (v view) ListInvitations(_ context.Context, sub ports.SubscriptionID, now time.Time, page ports.PageRequest) (ports.Page[ports.Invitation], error) {
	d, done, err := v.enter("ListInvitations")
	if err != nil {
		return ports.Page[ports.Invitation]{}, err
	}
	defer done()
	var mine []ports.Invitation
	for _, inv := range d.invites {
		if pendingInvite(inv, sub, now) {
			mine = append(mine, inv)
		}
	}
	slices.SortFunc(mine, func(a, b ports.Invitation) int { return strings.Compare(a.ID, b.ID) })
	return pageOf(mine, func(i ports.Invitation) string { return i.ID }, page)
}

// GetInvitationByHash finds an invitation by hash; ENotFound if none.
func (v view) GetInvitationByHash(_ context.Context, hash []byte) (ports.Invitation, error) {
	d, done, err := v.enter("GetInvitationByHash")
	if err != nil {
		return ports.Invitation{}, err
	}
	defer done()
	for _, inv := range d.invites {
		if string(inv.Hash) == string(hash) {
			return inv, nil
		}
	}
	return ports.Invitation{}, notFound("invitation")
}

// UseInvitation marks it accepted; EConflict if it already was.
func (v view) UseInvitation(_ context.Context, id string, at time.Time) error {
	d, done, err := v.enter("UseInvitation")
	if err != nil {
		return err
	}
	defer done()
	inv, ok := d.invites[id]
	switch {
	case !ok:
		return notFound("invitation")
	case inv.AcceptedAt != nil:
		return ports.Errorf(ports.EConflict, "the invitation was already used")
	}
	inv.AcceptedAt = &at
	d.invites[id] = inv
	return nil
}

// DeleteInvitation deletes the subscription's invitation.
func (v view) DeleteInvitation(_ context.Context, sub ports.SubscriptionID, id string) error {
	d, done, err := v.enter("DeleteInvitation")
	if err != nil {
		return err
	}
	defer done()
	if inv, ok := d.invites[id]; !ok || inv.SubscriptionID != sub {
		return notFound("invitation")
	}
	delete(d.invites, id)
	return nil
}

// CountInvitations counts the pending invitations.
func (v view) CountInvitations(_ context.Context, sub ports.SubscriptionID, now time.Time) (int, error) {
	d, done, err := v.enter("CountInvitations")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for _, inv := range d.invites {
		if pendingInvite(inv, sub, now) {
			n++
		}
	}
	return n, nil
}
