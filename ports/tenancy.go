package ports

import (
	"context"
	"fmt"
	"time"
)

// SubscriptionID identifies a tenant (an account).
type SubscriptionID string

// UserID identifies a user of a subscription.
type UserID string

// Tier is a subscription's plan; it sets the instance limit and API rate.
type Tier string

// The tiers.
const (
	TierBasic Tier = "basic"
	TierPro   Tier = "pro"
	TierMax   Tier = "max"
)

// Role is a user's role.
type Role string

// The roles. An admin is a platform operator.
const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
)

// Subscription is a tenant.
type Subscription struct {
	ID        SubscriptionID
	Tier      Tier
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is a person who logs in. Email is stored lower-cased.
type User struct {
	ID             UserID
	SubscriptionID SubscriptionID
	Email          string
	Name           string
	PasswordHash   string
	Role           Role
	// MemberRole is the user's role in their subscription (SPEC §17).
	MemberRole MemberRole
	// TokenVersion is carried in every access token; raising it (on a
	// password change) invalidates all tokens issued before.
	TokenVersion int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// RefreshToken is a stored refresh token. Only the SHA-256 of the token is
// kept. Tokens of one login form a family: using a spent token revokes the
// whole family.
type RefreshToken struct {
	ID             string
	UserID         UserID
	SubscriptionID SubscriptionID
	FamilyID       string
	Hash           []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         *time.Time
	RevokedAt      *time.Time
}

// AuditEntry is one line of the audit log. Details never hold secrets.
type AuditEntry struct {
	ID             string
	SubscriptionID SubscriptionID // empty for events without a tenant (unknown email)
	At             time.Time
	Action         string
	ActorUserID    UserID
	ActorAPIKeyID  APIKeyID
	TargetType     string
	TargetID       string
	IP             string
	UserAgent      string
	Details        map[string]any
	// Actor names the acting member as the audit log is read (the
	// tenancy module fills it from the member list; stores neither keep
	// nor return it): nil for API keys, events without a user and members
	// since removed.
	Actor *AuditActor
}

// AuditActor is the member behind an audit entry, as they are now.
type AuditActor struct {
	Email, Name string
	Role        MemberRole
}

// SubscriptionSummary is a subscription with its usage, as clients see it.
type SubscriptionSummary struct {
	Subscription
	InstanceLimit int
	InstancesUsed int
}

// AppendAudit stamps e with a new id and the time and appends it to st:
// the one way core modules write their audit entries.
func AppendAudit(ctx context.Context, st AuditStore, ids IDGen, clock Clock, e AuditEntry) error {
	e.ID = ids.NewID()
	e.At = clock.Now()
	if err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
