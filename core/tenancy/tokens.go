package tenancy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/wagate/wagate/ports"
)

// A refresh token is "wrt_" and 32 random bytes in unpadded base64url.
const (
	refreshPrefix = "wrt_"
	refreshBytes  = 32
	refreshLen    = len(refreshPrefix) + (refreshBytes*8+5)/6
)

func newRefreshValue() (string, error) {
	b := make([]byte, refreshBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	return refreshPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormedRefresh rejects garbage before it costs a database query.
func wellFormedRefresh(v string) bool {
	if len(v) != refreshLen || !strings.HasPrefix(v, refreshPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v[len(refreshPrefix):])
	return err == nil
}

func hashToken(v string) []byte {
	sum := sha256.Sum256([]byte(v))
	return sum[:]
}

// issue signs an access token for u and stores a new refresh token of the
// family with st.
func (s *Service) issue(ctx context.Context, st ports.Stores, u ports.User, family string) (Tokens, error) {
	now := s.d.Clock.Now()
	access, err := s.d.Tokens.Issue(ports.AccessClaims{
		TokenID:        s.d.IDs.NewID(),
		UserID:         u.ID,
		SubscriptionID: u.SubscriptionID,
		Role:           u.Role,
		TokenVersion:   u.TokenVersion,
		Family:         family,
		IssuedAt:       now,
		ExpiresAt:      now.Add(s.cfg.AccessTTL),
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("issue access token: %w", err)
	}
	refresh, err := newRefreshValue()
	if err != nil {
		return Tokens{}, err
	}
	err = st.Tokens.CreateRefreshToken(ctx, ports.RefreshToken{
		ID:             s.d.IDs.NewID(),
		UserID:         u.ID,
		SubscriptionID: u.SubscriptionID,
		FamilyID:       family,
		Hash:           hashToken(refresh),
		CreatedAt:      now,
		ExpiresAt:      now.Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("store refresh token: %w", err)
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: s.cfg.AccessTTL}, nil
}
