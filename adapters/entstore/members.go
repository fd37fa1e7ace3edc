package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/invitation"
	"github.com/wagate/wagate/ent/refreshtoken"
	"github.com/wagate/wagate/ent/user"
	"github.com/wagate/wagate/ports"
)

type memberStore struct{ s *conn }

var _ ports.MemberStore = (*memberStore)(nil)

// ListMembers pages oldest first: user ids are time-ordered.
func (st *memberStore) ListMembers(ctx context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.User], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.User]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.User.Query().
		Where(user.SubscriptionID(string(sub))).
		Order(ent.Asc(user.FieldID)).
		Limit(limit + 1)
	if after != "" {
		q = q.Where(user.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.User]{}, dbError("list members", "user", err)
	}
	return makePage(rows, limit, func(e *ent.User) ports.User {
		u := toUser(e)
		u.PasswordHash = ""
		return u
	}, func(e *ent.User) string { return e.ID }), nil
}

func (st *memberStore) CountMembers(ctx context.Context, sub ports.SubscriptionID) (int, int, error) {
	all, err := st.s.client.User.Query().Where(user.SubscriptionID(string(sub))).Count(ctx)
	if err != nil {
		return 0, 0, dbError("count members", "user", err)
	}
	owners, err := st.s.client.User.Query().
		Where(user.SubscriptionID(string(sub)), user.MemberRole(string(ports.MemberOwner))).Count(ctx)
	if err != nil {
		return 0, 0, dbError("count owners", "user", err)
	}
	return all, owners, nil
}

func (st *memberStore) DeleteMember(ctx context.Context, sub ports.SubscriptionID, id ports.UserID) error {
	return st.s.inTx(ctx, func(tx *conn) error {
		n, err := tx.client.User.Delete().
			Where(user.ID(string(id)), user.SubscriptionID(string(sub))).Exec(ctx)
		if err != nil {
			return dbError("delete member", "user", err)
		}
		if n == 0 {
			return ports.Errorf(ports.ENotFound, "member not found")
		}
		_, err = tx.client.RefreshToken.Delete().Where(refreshtoken.UserID(string(id))).Exec(ctx)
		return dbError("delete member's refresh tokens", "refresh token", err)
	})
}

type invitationStore struct{ s *conn }

var _ ports.InvitationStore = (*invitationStore)(nil)

func (st *invitationStore) CreateInvitation(ctx context.Context, inv ports.Invitation) error {
	err := st.s.client.Invitation.Create().
		SetID(inv.ID).
		SetSubscriptionID(string(inv.SubscriptionID)).
		SetEmail(inv.Email).
		SetRole(string(inv.Role)).
		SetHash(inv.Hash).
		SetInvitedBy(string(inv.InvitedBy)).
		SetCreatedAt(dbTime(inv.CreatedAt)).
		SetExpiresAt(dbTime(inv.ExpiresAt)).
		Exec(ctx)
	return dbError("create invitation", "invitation", err)
}

// ListInvitations pages oldest first: invitation ids are time-ordered.
func (st *invitationStore) ListInvitations(ctx context.Context, sub ports.SubscriptionID, now time.Time, page ports.PageRequest) (ports.Page[ports.Invitation], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Invitation]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.Invitation.Query().
		Where(invitation.SubscriptionID(string(sub)), invitation.AcceptedAtIsNil(), invitation.ExpiresAtGT(dbTime(now))).
		Order(ent.Asc(invitation.FieldID)).
		Limit(limit + 1)
	if after != "" {
		q = q.Where(invitation.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.Invitation]{}, dbError("list invitations", "invitation", err)
	}
	return makePage(rows, limit, toInvitation, func(e *ent.Invitation) string { return e.ID }), nil
}

func (st *invitationStore) GetInvitationByHash(ctx context.Context, hash []byte) (ports.Invitation, error) {
	e, err := st.s.client.Invitation.Query().Where(invitation.Hash(hash)).Only(ctx)
	if err != nil {
		return ports.Invitation{}, dbError("get invitation", "invitation", err)
	}
	return toInvitation(e), nil
}

// UseInvitation is one conditional UPDATE, so that of two concurrent
// acceptances exactly one changes the row.
func (st *invitationStore) UseInvitation(ctx context.Context, id string, at time.Time) error {
	n, err := st.s.client.Invitation.Update().
		Where(invitation.ID(id), invitation.AcceptedAtIsNil()).
		SetAcceptedAt(dbTime(at)).
		Save(ctx)
	if err != nil {
		return dbError("use invitation", "invitation", err)
	}
	if n == 0 {
		return ports.Errorf(ports.EConflict, "the invitation was already used")
	}
	return nil
}

func (st *invitationStore) DeleteInvitation(ctx context.Context, sub ports.SubscriptionID, id string) error {
	n, err := st.s.client.Invitation.Delete().
		Where(invitation.ID(id), invitation.SubscriptionID(string(sub))).Exec(ctx)
	if err != nil {
		return dbError("delete invitation", "invitation", err)
	}
	if n == 0 {
		return ports.Errorf(ports.ENotFound, "invitation not found")
	}
	return nil
}

func (st *invitationStore) CountInvitations(ctx context.Context, sub ports.SubscriptionID, now time.Time) (int, error) {
	n, err := st.s.client.Invitation.Query().
		Where(invitation.SubscriptionID(string(sub)), invitation.AcceptedAtIsNil(), invitation.ExpiresAtGT(dbTime(now))).
		Count(ctx)
	return n, dbError("count invitations", "invitation", err)
}

func toInvitation(e *ent.Invitation) ports.Invitation {
	return ports.Invitation{
		ID:             e.ID,
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		Email:          e.Email,
		Role:           ports.MemberRole(e.Role),
		Hash:           e.Hash,
		InvitedBy:      ports.UserID(e.InvitedBy),
		CreatedAt:      e.CreatedAt.UTC(),
		ExpiresAt:      e.ExpiresAt.UTC(),
		AcceptedAt:     utcPtr(e.AcceptedAt),
	}
}
