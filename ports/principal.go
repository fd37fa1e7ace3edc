package ports

import (
	"slices"
	"time"
)

// PrincipalKind tells how a caller authenticated.
type PrincipalKind string

// The principal kinds.
const (
	PrincipalUser   PrincipalKind = "user"    // a JWT access token
	PrincipalAPIKey PrincipalKind = "api_key" // an instance API key
)

// Principal is the authenticated caller of a request. Core modules make every
// authorization decision from it.
type Principal struct {
	Kind           PrincipalKind
	SubscriptionID SubscriptionID
	Tier           Tier

	// Set for PrincipalUser.
	UserID         UserID
	Role           Role
	MemberRole     MemberRole // read from the user's row with every token check
	TokenID        string     // the access token's jti
	TokenExpiresAt time.Time  // when the access token expires
	TokenFamily    string     // the refresh family the token came from

	// Set for PrincipalAPIKey.
	APIKeyID   APIKeyID
	InstanceID InstanceID
	Scopes     []Scope

	// Where the request came from, for the audit log.
	IP        string
	UserAgent string
}

// RequireUser fails with EForbidden unless the caller is a logged-in user:
// API keys cannot reach account, management, key, webhook or admin routes.
func (p Principal) RequireUser() error {
	if p.Kind != PrincipalUser {
		return ReasonError(EForbidden, "forbidden", "this route needs a user's access token, not an API key")
	}
	return nil
}

// RequireAdmin fails with EForbidden unless the caller is a platform admin.
func (p Principal) RequireAdmin() error {
	if p.Kind != PrincipalUser || p.Role != RoleAdmin {
		return ReasonError(EForbidden, "forbidden", "this route is for platform admins")
	}
	return nil
}

// RequireMemberRole fails with EForbidden (insufficient_role) unless the
// caller is a member holding at least the role min. API keys pass: they
// are scoped to their instance instead (RequireScope, CanActOn).
func (p Principal) RequireMemberRole(min MemberRole) error {
	if p.Kind == PrincipalAPIKey {
		return nil
	}
	if !p.MemberRole.AtLeast(min) {
		return InsufficientRole(min)
	}
	return nil
}

// RequireScope fails with EForbidden when an API key lacks the scope. Users
// hold every scope on their own subscription.
func (p Principal) RequireScope(s Scope) error {
	if p.Kind == PrincipalAPIKey && !slices.Contains(p.Scopes, s) {
		return ReasonError(EForbidden, "forbidden", "the API key lacks the scope "+string(s))
	}
	return nil
}

// CanActOn fails with ENotFound when an API key names another instance than
// its own, so that the existence of other instances is not revealed.
func (p Principal) CanActOn(id InstanceID) error {
	if p.Kind == PrincipalAPIKey && p.InstanceID != id {
		return Errorf(ENotFound, "instance not found")
	}
	return nil
}

// AuditEntry starts an audit entry for an action of p on a target (both
// may be empty): the tenant, the actor and where the request came from.
func (p Principal) AuditEntry(action, targetType, targetID string) AuditEntry {
	return AuditEntry{
		SubscriptionID: p.SubscriptionID,
		Action:         action,
		ActorUserID:    p.UserID,
		ActorAPIKeyID:  p.APIKeyID,
		TargetType:     targetType,
		TargetID:       targetID,
		IP:             p.IP,
		UserAgent:      p.UserAgent,
	}
}
