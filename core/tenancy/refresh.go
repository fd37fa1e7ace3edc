package tenancy

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// loadRefresh finds a presented refresh token and checks that it can still
// be used, except for reuse, which only spending it detects atomically.
func (s *Service) loadRefresh(ctx context.Context, value string) (ports.RefreshToken, error) {
	if !wellFormedRefresh(value) {
		return ports.RefreshToken{}, unauthorized()
	}
	rt, err := s.d.Stores.Tokens.GetRefreshToken(ctx, hashToken(value))
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return ports.RefreshToken{}, unauthorized()
	case err != nil:
		return ports.RefreshToken{}, fmt.Errorf("get refresh token: %w", err)
	case rt.RevokedAt != nil:
		return ports.RefreshToken{}, tokenRevoked()
	case !s.d.Clock.Now().Before(rt.ExpiresAt):
		return ports.RefreshToken{}, tokenExpired()
	}
	return rt, nil
}

// Refresh spends a refresh token and issues a new pair of the same family.
// EUnauthorized: unknown (unauthorized), expired (token_expired), spent or
// revoked (token_revoked; a spent one also revokes its whole family).
// EInvalid when no token is given.
func (s *Service) Refresh(ctx context.Context, value string, c Client) (Tokens, error) {
	if err := ports.FieldErrors(requireField("refreshToken", value, maxTokenLen)); err != nil {
		return Tokens{}, err
	}
	rt, err := s.loadRefresh(ctx, value)
	if err != nil {
		return Tokens{}, err
	}
	u, err := s.d.Stores.Users.GetUser(ctx, rt.UserID)
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return Tokens{}, unauthorized()
	case err != nil:
		return Tokens{}, fmt.Errorf("get user: %w", err)
	}
	var toks Tokens
	reused := false
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		now := s.d.Clock.Now()
		err := st.Tokens.UseRefreshToken(ctx, rt.ID, now)
		if ports.IsCode(err, ports.EConflict) {
			// A spent token came back: whoever holds it, the family can no
			// longer be trusted. The revocation is committed, the caller
			// gets the error after.
			reused = true
			if err := s.revokeFamily(ctx, st, rt.FamilyID, now); err != nil {
				return err
			}
			e := byUser(u, c, "auth.refresh_reused")
			e.TargetType, e.TargetID = "refresh_family", rt.FamilyID
			return s.audit(ctx, st.Audit, e)
		}
		if err != nil {
			return fmt.Errorf("use refresh token: %w", err)
		}
		toks, err = s.issue(ctx, st, u, rt.FamilyID)
		return err
	})
	switch {
	case err != nil:
		return Tokens{}, err
	case reused:
		s.d.Log.WarnContext(ctx, "refresh token reused; family revoked",
			"userId", rt.UserID, "subscriptionId", rt.SubscriptionID, "family", rt.FamilyID)
		s.d.Principals.Revoke(ctx, ports.Revocation{TokenFamily: rt.FamilyID})
		return Tokens{}, tokenRevoked()
	}
	return toks, nil
}

// revokeFamily revokes the family's refresh tokens and denies its access
// tokens. The family's id goes on the access-token deny-list, which every
// request reads from the database, so the tokens are refused at once on
// every node rather than living out their TTL. It stays there for one
// access TTL from now, past the expiry of any token the family issued.
func (s *Service) revokeFamily(ctx context.Context, st ports.Stores, family string, now time.Time) error {
	if err := st.Tokens.RevokeRefreshFamily(ctx, family, now); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	if err := st.Tokens.DenyAccessToken(ctx, family, now.Add(s.cfg.AccessTTL)); err != nil {
		return fmt.Errorf("deny family access tokens: %w", err)
	}
	return nil
}

// Logout denies the caller's access token until it expires and revokes its
// refresh family (and that of refreshToken, when given and the caller's).
func (s *Service) Logout(ctx context.Context, p ports.Principal, refreshValue string) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	// A second family is revoked only when the token is the caller's: an
	// unknown or foreign token is ignored rather than reported, so that
	// logout cannot be used to probe tokens.
	extraFamily := ""
	if refreshValue != "" && wellFormedRefresh(refreshValue) {
		rt, err := s.d.Stores.Tokens.GetRefreshToken(ctx, hashToken(refreshValue))
		switch {
		case err == nil && rt.UserID == p.UserID:
			extraFamily = rt.FamilyID
		case err != nil && !ports.IsCode(err, ports.ENotFound):
			return fmt.Errorf("get refresh token: %w", err)
		}
	}
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		now := s.d.Clock.Now()
		if p.TokenID != "" {
			if err := st.Tokens.DenyAccessToken(ctx, p.TokenID, p.TokenExpiresAt); err != nil {
				return fmt.Errorf("deny access token: %w", err)
			}
		}
		for _, fam := range []string{p.TokenFamily, extraFamily} {
			if fam == "" {
				continue
			}
			if err := s.revokeFamily(ctx, st, fam, now); err != nil {
				return err
			}
		}
		return s.audit(ctx, st.Audit, byPrincipal(p, "auth.logout"))
	})
	if err != nil {
		return err
	}
	s.d.Principals.Revoke(ctx, ports.Revocation{TokenID: p.TokenID, TokenFamily: p.TokenFamily})
	if extraFamily != "" && extraFamily != p.TokenFamily {
		s.d.Principals.Revoke(ctx, ports.Revocation{TokenFamily: extraFamily})
	}
	return nil
}

// ChangePassword checks the current password, stores the new one and revokes
// every earlier token of the user. EUnauthorized (invalid_credentials) for a
// wrong current password; EInvalid for a bad new one.
func (s *Service) ChangePassword(ctx context.Context, p ports.Principal, current, next string) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	u, err := s.d.Stores.Users.GetUser(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	if err := ports.FieldErrors(requireField("currentPassword", current, maxLoginPasswordLen)); err != nil {
		return err
	}
	ok, err := s.d.Hasher.Verify(u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return invalidCredentials()
	}
	if err := ports.FieldErrors(checkPassword("newPassword", next)); err != nil {
		return err
	}
	hash, err := s.d.Hasher.Hash(next)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		now := s.d.Clock.Now()
		// A new token version invalidates every access token issued before;
		// refresh tokens are revoked outright.
		_, err := st.Users.UpdateUser(ctx, p.UserID, func(u *ports.User) error {
			u.PasswordHash = hash
			u.TokenVersion++
			u.UpdatedAt = now
			return nil
		})
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if err := st.Tokens.RevokeUserRefreshTokens(ctx, p.UserID, now); err != nil {
			return fmt.Errorf("revoke refresh tokens: %w", err)
		}
		e := byPrincipal(p, "auth.password_changed")
		e.TargetType, e.TargetID = "user", string(p.UserID)
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return err
	}
	s.d.Principals.Revoke(ctx, ports.Revocation{UserID: p.UserID})
	return nil
}

// AuthenticateAccess turns an access token into a principal: signature,
// expiry, deny-list and token version are checked. EUnauthorized with reason
// unauthorized, token_expired or token_revoked.
func (s *Service) AuthenticateAccess(ctx context.Context, token string) (ports.Principal, error) {
	key := CredentialKey(token)
	p, gen, ok := s.d.Principals.Lookup(key)
	if ok {
		return p, nil
	}
	p, err := s.authenticateAccess(ctx, token)
	if err == nil {
		s.d.Principals.Store(key, p, p.TokenExpiresAt, gen)
	}
	return p, err
}

// authenticateAccess is AuthenticateAccess without the cache.
func (s *Service) authenticateAccess(ctx context.Context, token string) (ports.Principal, error) {
	c, err := s.d.Tokens.Verify(token)
	if err != nil {
		return ports.Principal{}, fmt.Errorf("verify access token: %w", err)
	}
	// One read: the deny-list, the user and the tier all sit on the path
	// of every request.
	a, err := s.d.Stores.Access.GetUserAccess(ctx, c.UserID, c.TokenID, c.Family)
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return ports.Principal{}, unauthorized()
	case err != nil:
		return ports.Principal{}, fmt.Errorf("get user access: %w", err)
	case a.Denied:
		return ports.Principal{}, tokenRevoked()
	case a.User.SubscriptionID != c.SubscriptionID:
		return ports.Principal{}, unauthorized()
	case a.User.TokenVersion != c.TokenVersion:
		return ports.Principal{}, tokenRevoked()
	}
	u, sub := a.User, a.Subscription
	return ports.Principal{
		Kind:           ports.PrincipalUser,
		SubscriptionID: sub.ID,
		Tier:           sub.Tier,
		UserID:         u.ID,
		Role:           u.Role,       // from the row: a role change applies at once
		MemberRole:     u.MemberRole, // likewise, on every node (Revoke drops the caches)
		TokenID:        c.TokenID,
		TokenExpiresAt: c.ExpiresAt,
		TokenFamily:    c.Family,
	}, nil
}
