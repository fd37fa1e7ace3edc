package ports

import (
	"context"
	"time"
)

// MemberRole is a user's role in their own subscription (SPEC §17). It is
// apart from Role, which tells platform admins from everyone else: a
// platform admin is the owner of their own subscription like any user.
type MemberRole string

// The member roles, from the most to the least rights.
const (
	MemberOwner     MemberRole = "owner"
	MemberAdmin     MemberRole = "admin"
	MemberDeveloper MemberRole = "developer"
	MemberViewer    MemberRole = "viewer"
)

// MemberRoles lists the member roles, most rights first.
var MemberRoles = []MemberRole{MemberOwner, MemberAdmin, MemberDeveloper, MemberViewer}

// rank orders the roles; 0 is no role.
func (r MemberRole) rank() int {
	switch r {
	case MemberOwner:
		return 4
	case MemberAdmin:
		return 3
	case MemberDeveloper:
		return 2
	case MemberViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the four roles.
func (r MemberRole) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r holds every right of min. No role holds none.
func (r MemberRole) AtLeast(min MemberRole) bool { return r.Valid() && r.rank() >= min.rank() }

// InsufficientRole is the error of a member whose role is below the one a
// route or action needs.
func InsufficientRole(need MemberRole) *Error {
	return ReasonError(EForbidden, "insufficient_role", "this needs the role "+string(need)+" or higher")
}

// Invitation asks someone to join a subscription with a role. Only the
// SHA-256 of its token is kept; it can be accepted once, before ExpiresAt.
type Invitation struct {
	ID             string
	SubscriptionID SubscriptionID
	Email          string // lower-cased
	Role           MemberRole
	Hash           []byte
	InvitedBy      UserID
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
}

// MemberStore reads and removes the users of a subscription; their roles
// change through UserStore.UpdateUser.
type MemberStore interface {
	// ListMembers pages through a subscription's users, oldest first,
	// without their password hashes.
	ListMembers(ctx context.Context, sub SubscriptionID, page PageRequest) (Page[User], error)
	// CountMembers returns how many users the subscription has in all and
	// how many of them are owners.
	CountMembers(ctx context.Context, sub SubscriptionID) (all, owners int, err error)
	// DeleteMember deletes the user and their refresh tokens. ENotFound if
	// the user is missing or another tenant's.
	DeleteMember(ctx context.Context, sub SubscriptionID, id UserID) error
}

// InvitationStore keeps invitations.
type InvitationStore interface {
	// CreateInvitation stores inv; EConflict if its hash exists.
	CreateInvitation(ctx context.Context, inv Invitation) error
	// ListInvitations pages through the subscription's invitations that
	// are neither accepted nor expired at now, oldest first.
	ListInvitations(ctx context.Context, sub SubscriptionID, now time.Time, page PageRequest) (Page[Invitation], error)
	// GetInvitationByHash finds an invitation by the SHA-256 of its token,
	// whatever its tenant; ENotFound if none.
	GetInvitationByHash(ctx context.Context, hash []byte) (Invitation, error)
	// UseInvitation marks the invitation accepted at the given time,
	// atomically: EConflict if it already was.
	UseInvitation(ctx context.Context, id string, at time.Time) error
	// DeleteInvitation deletes the subscription's invitation. ENotFound if
	// it is missing or another tenant's.
	DeleteInvitation(ctx context.Context, sub SubscriptionID, id string) error
	// CountInvitations returns how many of the subscription's invitations
	// are pending at now.
	CountInvitations(ctx context.Context, sub SubscriptionID, now time.Time) (int, error)
}
