package entstore

import (
	"context"

	"github.com/wagate/wagate/ent/user"
	"github.com/wagate/wagate/ports"
)

type userStore struct{ s *conn }

var _ ports.UserStore = (*userStore)(nil)

func (st *userStore) CreateUser(ctx context.Context, u ports.User) error {
	err := st.s.client.User.Create().
		SetID(string(u.ID)).
		SetSubscriptionID(string(u.SubscriptionID)).
		SetEmail(u.Email).
		SetName(u.Name).
		SetPasswordHash(u.PasswordHash).
		SetRole(string(u.Role)).
		SetMemberRole(string(memberRoleOrOwner(u.MemberRole))).
		SetTokenVersion(u.TokenVersion).
		SetCreatedAt(dbTime(u.CreatedAt)).
		SetUpdatedAt(dbTime(u.UpdatedAt)).
		Exec(ctx)
	if uniqueOn(err, "email") {
		return errEmailTaken()
	}
	return dbError("create user", "user", err)
}

func (st *userStore) GetUser(ctx context.Context, id ports.UserID) (ports.User, error) {
	e, err := st.s.client.User.Get(ctx, string(id))
	if err != nil {
		return ports.User{}, dbError("get user", "user", err)
	}
	return toUser(e), nil
}

func (st *userStore) GetUserByEmail(ctx context.Context, email string) (ports.User, error) {
	e, err := st.s.client.User.Query().Where(user.Email(email)).Only(ctx)
	if err != nil {
		return ports.User{}, dbError("get user by email", "user", err)
	}
	return toUser(e), nil
}

func (st *userStore) UpdateUser(ctx context.Context, id ports.UserID, fn func(*ports.User) error) (ports.User, error) {
	var out ports.User
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.User.Query().Where(user.ID(string(id)))
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update user", "user", err)
		}
		u := toUser(e)
		if err := fn(&u); err != nil {
			return err
		}
		e, err = e.Update().
			SetEmail(u.Email).
			SetName(u.Name).
			SetPasswordHash(u.PasswordHash).
			SetRole(string(u.Role)).
			SetMemberRole(string(memberRoleOrOwner(u.MemberRole))).
			SetTokenVersion(u.TokenVersion).
			SetUpdatedAt(dbTime(u.UpdatedAt)).
			Save(ctx)
		if uniqueOn(err, "email") {
			return errEmailTaken()
		}
		if err != nil {
			return dbError("update user", "user", err)
		}
		out = toUser(e)
		return nil
	})
	return out, err
}

func (st *userStore) CountUsers(ctx context.Context, sub ports.SubscriptionID) (int, error) {
	n, err := st.s.client.User.Query().Where(user.SubscriptionID(string(sub))).Count(ctx)
	return n, dbError("count users", "user", err)
}

// memberRoleOrOwner stores a user made without a member role (the command
// line, older callers) as the owner of their own subscription.
func memberRoleOrOwner(r ports.MemberRole) ports.MemberRole {
	if r == "" {
		return ports.MemberOwner
	}
	return r
}
