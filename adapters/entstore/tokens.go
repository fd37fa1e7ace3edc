package entstore

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ent/deniedtoken"
	"github.com/wagate/wagate/ent/refreshtoken"
	"github.com/wagate/wagate/ports"
)

type tokenStore struct{ s *conn }

var _ ports.TokenStore = (*tokenStore)(nil)

func (st *tokenStore) CreateRefreshToken(ctx context.Context, t ports.RefreshToken) error {
	err := st.s.client.RefreshToken.Create().
		SetID(t.ID).
		SetUserID(string(t.UserID)).
		SetSubscriptionID(string(t.SubscriptionID)).
		SetFamilyID(t.FamilyID).
		SetHash(t.Hash).
		SetCreatedAt(dbTime(t.CreatedAt)).
		SetExpiresAt(dbTime(t.ExpiresAt)).
		SetNillableUsedAt(dbTimePtr(t.UsedAt)).
		SetNillableRevokedAt(dbTimePtr(t.RevokedAt)).
		Exec(ctx)
	return dbError("create refresh token", "refresh token", err)
}

func (st *tokenStore) GetRefreshToken(ctx context.Context, hash []byte) (ports.RefreshToken, error) {
	e, err := st.s.client.RefreshToken.Query().Where(refreshtoken.Hash(hash)).Only(ctx)
	if err != nil {
		return ports.RefreshToken{}, dbError("get refresh token", "refresh token", err)
	}
	return toRefreshToken(e), nil
}

// UseRefreshToken is one conditional UPDATE, so that of two concurrent uses
// of the same token exactly one changes the row; the other is a reuse.
func (st *tokenStore) UseRefreshToken(ctx context.Context, id string, at time.Time) error {
	c := st.s.client
	n, err := c.RefreshToken.Update().
		Where(refreshtoken.ID(id), refreshtoken.UsedAtIsNil(), refreshtoken.RevokedAtIsNil()).
		SetUsedAt(dbTime(at)).
		Save(ctx)
	if err != nil {
		return dbError("use refresh token", "refresh token", err)
	}
	if n == 1 {
		return nil
	}
	exists, err := c.RefreshToken.Query().Where(refreshtoken.ID(id)).Exist(ctx)
	switch {
	case err != nil:
		return dbError("use refresh token", "refresh token", err)
	case !exists:
		return ports.Errorf(ports.ENotFound, "refresh token not found")
	}
	return ports.Errorf(ports.EConflict, "the refresh token was already used or revoked")
}

func (st *tokenStore) RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error {
	_, err := st.s.client.RefreshToken.Update().
		Where(refreshtoken.FamilyID(familyID), refreshtoken.RevokedAtIsNil()).
		SetRevokedAt(dbTime(at)).
		Save(ctx)
	return dbError("revoke refresh family", "refresh token", err)
}

func (st *tokenStore) RevokeUserRefreshTokens(ctx context.Context, u ports.UserID, at time.Time) error {
	_, err := st.s.client.RefreshToken.Update().
		Where(refreshtoken.UserID(string(u)), refreshtoken.RevokedAtIsNil()).
		SetRevokedAt(dbTime(at)).
		Save(ctx)
	return dbError("revoke user refresh tokens", "refresh token", err)
}

func (st *tokenStore) DenyAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	err := st.s.client.DeniedToken.Create().
		SetID(jti).
		SetExpiresAt(dbTime(expiresAt)).
		OnConflictColumns(deniedtoken.FieldID).
		Ignore().
		Exec(ctx)
	return dbError("deny access token", "denied token", err)
}

// PurgeExpiredTokens deletes both kinds in one transaction so that the
// count it returns is what went.
func (st *tokenStore) PurgeExpiredTokens(ctx context.Context, before time.Time) (int, error) {
	var total int
	err := st.s.inTx(ctx, func(tx *conn) error {
		c := tx.client
		t := dbTime(before)
		n, err := c.RefreshToken.Delete().Where(refreshtoken.ExpiresAtLT(t)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("purge refresh tokens: %w", err)
		}
		m, err := c.DeniedToken.Delete().Where(deniedtoken.ExpiresAtLT(t)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("purge denied tokens: %w", err)
		}
		total = n + m
		return nil
	})
	return total, err
}
