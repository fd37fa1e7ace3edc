package tenancy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// The rules of SPEC §17.
const (
	// InvitationTTL is how long an invitation can be accepted.
	InvitationTTL = 7 * 24 * time.Hour
	// MaxMembers bounds a subscription's members and pending invitations
	// together, so that neither list nor the invitation flow grows without
	// end.
	MaxMembers = 100
)

// An invitation token is "wgi_" and 32 random bytes in unpadded base64url.
const (
	invitePrefix = "wgi_"
	inviteBytes  = 32
	inviteLen    = len(invitePrefix) + (inviteBytes*8+5)/6
)

// InviteCmd invites someone to the caller's subscription.
type InviteCmd struct {
	Email string
	Role  ports.MemberRole
}

// NewInvitation is a created invitation with its token, which is shown
// this once: only its hash is stored.
type NewInvitation struct {
	ports.Invitation
	Token string
}

// AcceptCmd accepts an invitation: the new user's password and name.
type AcceptCmd struct {
	Token, Password, Name string
	Client                Client
}

// Invite creates an invitation valid for InvitationTTL. Needs admin.
// EInvalid for a bad email or role (owner is transferred, not invited);
// EConflict: email_taken for a registered email, member_limit_reached at
// MaxMembers.
func (s *Service) Invite(ctx context.Context, p ports.Principal, cmd InviteCmd) (NewInvitation, error) {
	if err := s.requireMember(p, ports.MemberAdmin); err != nil {
		return NewInvitation{}, err
	}
	email := normalizeEmail(cmd.Email)
	if err := ports.FieldErrors(checkEmail(email), checkInvitedRole(cmd.Role)); err != nil {
		return NewInvitation{}, err
	}
	switch _, err := s.d.Stores.Users.GetUserByEmail(ctx, email); {
	case err == nil:
		return NewInvitation{}, emailTaken()
	case !ports.IsCode(err, ports.ENotFound):
		return NewInvitation{}, fmt.Errorf("look up email: %w", err)
	}
	b := make([]byte, inviteBytes)
	if _, err := rand.Read(b); err != nil {
		return NewInvitation{}, fmt.Errorf("invitation token: %w", err)
	}
	token := invitePrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.d.Clock.Now()
	inv := ports.Invitation{
		ID: s.d.IDs.NewID(), SubscriptionID: p.SubscriptionID, Email: email, Role: cmd.Role,
		Hash: hashToken(token), InvitedBy: p.UserID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL),
	}
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := s.checkRoom(ctx, st, p.SubscriptionID, now); err != nil {
			return err
		}
		if err := st.Invitations.CreateInvitation(ctx, inv); err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		e := p.AuditEntry("member.invited", "invitation", inv.ID)
		e.Details = map[string]any{"email": email, "role": string(cmd.Role)}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return NewInvitation{}, err
	}
	inv.Hash = nil
	return NewInvitation{Invitation: inv, Token: token}, nil
}

// checkRoom locks the subscription (so that concurrent invitations and
// member changes of one subscription take turns) and fails with EConflict
// (member_limit_reached) when members and pending invitations fill
// MaxMembers.
func (s *Service) checkRoom(ctx context.Context, st ports.Stores, sub ports.SubscriptionID, now time.Time) error {
	if _, err := st.Subscriptions.LockSubscription(ctx, sub); err != nil {
		return fmt.Errorf("lock subscription: %w", err)
	}
	members, _, err := st.Members.CountMembers(ctx, sub)
	if err != nil {
		return fmt.Errorf("count members: %w", err)
	}
	invited, err := st.Invitations.CountInvitations(ctx, sub, now)
	if err != nil {
		return fmt.Errorf("count invitations: %w", err)
	}
	if members+invited >= MaxMembers {
		return ports.ReasonError(ports.EConflict, "member_limit_reached",
			fmt.Sprintf("a subscription has at most %d members and pending invitations", MaxMembers))
	}
	return nil
}

// ListInvitations lists the pending invitations, oldest first. Needs admin.
func (s *Service) ListInvitations(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.Invitation], error) {
	if err := s.requireMember(p, ports.MemberAdmin); err != nil {
		return ports.Page[ports.Invitation]{}, err
	}
	out, err := s.d.Stores.Invitations.ListInvitations(ctx, p.SubscriptionID, s.d.Clock.Now(), page)
	if err != nil {
		return out, fmt.Errorf("list invitations: %w", err)
	}
	for i := range out.Items {
		out.Items[i].Hash = nil
	}
	return out, nil
}

// DeleteInvitation withdraws an invitation. Needs admin; ENotFound for
// another tenant's.
func (s *Service) DeleteInvitation(ctx context.Context, p ports.Principal, id string) error {
	if err := s.requireMember(p, ports.MemberAdmin); err != nil {
		return err
	}
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := st.Invitations.DeleteInvitation(ctx, p.SubscriptionID, id); err != nil {
			return fmt.Errorf("delete invitation: %w", err)
		}
		return s.audit(ctx, st.Audit, p.AuditEntry("member.invitation_deleted", "invitation", id))
	})
}

// AcceptInvitation creates the invited user in the invitation's
// subscription, with its role, and logs them in. EUnauthorized
// (invalid_invitation) for a token that is unknown, used or expired;
// EInvalid for a bad password or name; EConflict (email_taken) when the
// email was registered meanwhile.
func (s *Service) AcceptInvitation(ctx context.Context, cmd AcceptCmd) (Account, Tokens, error) {
	name := strings.TrimSpace(cmd.Name)
	tokenErr := func() *ports.FieldError {
		if cmd.Token == "" {
			return &ports.FieldError{Field: "token", Message: "is required"}
		}
		return nil
	}()
	if err := ports.FieldErrors(tokenErr, checkPassword("password", cmd.Password), checkName(name)); err != nil {
		return Account{}, Tokens{}, err
	}
	if !wellFormedInvite(cmd.Token) {
		return Account{}, Tokens{}, invalidInvitation()
	}
	inv, err := s.d.Stores.Invitations.GetInvitationByHash(ctx, hashToken(cmd.Token))
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return Account{}, Tokens{}, invalidInvitation()
	case err != nil:
		return Account{}, Tokens{}, fmt.Errorf("get invitation: %w", err)
	}
	now := s.d.Clock.Now()
	if inv.AcceptedAt != nil || !now.Before(inv.ExpiresAt) {
		return Account{}, Tokens{}, invalidInvitation()
	}
	switch _, err := s.d.Stores.Users.GetUserByEmail(ctx, inv.Email); {
	case err == nil:
		return Account{}, Tokens{}, emailTaken()
	case !ports.IsCode(err, ports.ENotFound):
		return Account{}, Tokens{}, fmt.Errorf("look up email: %w", err)
	}
	hash, err := s.d.Hasher.Hash(cmd.Password)
	if err != nil {
		return Account{}, Tokens{}, fmt.Errorf("hash password: %w", err)
	}
	u := ports.User{
		ID: ports.UserID(s.d.IDs.NewID()), SubscriptionID: inv.SubscriptionID, Email: inv.Email, Name: name,
		PasswordHash: hash, Role: ports.RoleMember, MemberRole: inv.Role, CreatedAt: now, UpdatedAt: now,
	}
	var (
		toks Tokens
		sum  ports.SubscriptionSummary
	)
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		sub, err := st.Subscriptions.LockSubscription(ctx, inv.SubscriptionID)
		if err != nil {
			return fmt.Errorf("lock subscription: %w", err)
		}
		if err := st.Invitations.UseInvitation(ctx, inv.ID, now); err != nil {
			if ports.IsCode(err, ports.EConflict) || ports.IsCode(err, ports.ENotFound) {
				return invalidInvitation()
			}
			return fmt.Errorf("use invitation: %w", err)
		}
		if err := st.Users.CreateUser(ctx, u); err != nil {
			if ports.IsCode(err, ports.EConflict) {
				return emailTaken()
			}
			return fmt.Errorf("create user: %w", err)
		}
		if toks, err = s.issue(ctx, st, u, s.d.IDs.NewID()); err != nil {
			return err
		}
		if sum, err = s.summary(ctx, st.Instances, sub); err != nil {
			return err
		}
		e := byUser(u, cmd.Client, "member.joined")
		e.Details = map[string]any{"role": string(inv.Role), "invitationId": inv.ID}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return Account{}, Tokens{}, err
	}
	return Account{User: withoutSecrets(u), Subscription: sum}, toks, nil
}

// ListMembers lists the subscription's members, oldest first. Any member.
func (s *Service) ListMembers(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.User], error) {
	if err := s.requireMember(p, ports.MemberViewer); err != nil {
		return ports.Page[ports.User]{}, err
	}
	out, err := s.d.Stores.Members.ListMembers(ctx, p.SubscriptionID, page)
	if err != nil {
		return out, fmt.Errorf("list members: %w", err)
	}
	return out, nil
}

// ChangeRole gives a member another role. Needs admin; only the owner
// touches the owner role: giving it transfers ownership (the owner
// becomes an admin), and an owner cannot be demoted while they are the
// last one (EConflict last_owner). ENotFound for another tenant's user.
func (s *Service) ChangeRole(ctx context.Context, p ports.Principal, id ports.UserID, role ports.MemberRole) (ports.User, error) {
	if err := s.requireMember(p, ports.MemberAdmin); err != nil {
		return ports.User{}, err
	}
	if !role.Valid() {
		return ports.User{}, ports.InvalidFields(ports.FieldError{Field: "role", Message: "must be owner, admin, developer or viewer"})
	}
	var (
		out     ports.User
		revoked []ports.UserID
	)
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		revoked = nil
		if _, err := st.Subscriptions.LockSubscription(ctx, p.SubscriptionID); err != nil {
			return fmt.Errorf("lock subscription: %w", err)
		}
		target, err := s.memberOf(ctx, st, p.SubscriptionID, id)
		if err != nil {
			return err
		}
		from := target.MemberRole
		if (role == ports.MemberOwner || from == ports.MemberOwner) && p.MemberRole != ports.MemberOwner {
			return ports.InsufficientRole(ports.MemberOwner)
		}
		out = withoutSecrets(target)
		if from == role {
			return nil
		}
		if from == ports.MemberOwner {
			if _, owners, err := st.Members.CountMembers(ctx, p.SubscriptionID); err != nil {
				return fmt.Errorf("count owners: %w", err)
			} else if owners <= 1 {
				return lastOwner()
			}
		}
		now := s.d.Clock.Now()
		if out, err = s.setRole(ctx, st, id, role, now); err != nil {
			return err
		}
		revoked = append(revoked, id)
		e := p.AuditEntry("member.role_changed", "user", string(id))
		e.Details = map[string]any{"from": string(from), "to": string(role)}
		if err := s.audit(ctx, st.Audit, e); err != nil {
			return err
		}
		if role != ports.MemberOwner || p.UserID == id {
			return nil
		}
		// A transfer: the owner steps down to admin.
		if _, err := s.setRole(ctx, st, p.UserID, ports.MemberAdmin, now); err != nil {
			return err
		}
		revoked = append(revoked, p.UserID)
		e = p.AuditEntry("member.ownership_transferred", "user", string(id))
		e.Details = map[string]any{"from": string(p.UserID), "to": string(id)}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return ports.User{}, err
	}
	for _, u := range revoked {
		s.d.Principals.Revoke(ctx, ports.Revocation{UserID: u})
	}
	return out, nil
}

// RemoveMember deletes a member with their refresh tokens; their access
// tokens stop working at once, on every node. Needs admin, or owner to
// remove an owner; the last owner cannot leave (EConflict last_owner).
func (s *Service) RemoveMember(ctx context.Context, p ports.Principal, id ports.UserID) error {
	if err := s.requireMember(p, ports.MemberAdmin); err != nil {
		return err
	}
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if _, err := st.Subscriptions.LockSubscription(ctx, p.SubscriptionID); err != nil {
			return fmt.Errorf("lock subscription: %w", err)
		}
		target, err := s.memberOf(ctx, st, p.SubscriptionID, id)
		if err != nil {
			return err
		}
		if target.MemberRole == ports.MemberOwner {
			if p.MemberRole != ports.MemberOwner {
				return ports.InsufficientRole(ports.MemberOwner)
			}
			if _, owners, err := st.Members.CountMembers(ctx, p.SubscriptionID); err != nil {
				return fmt.Errorf("count owners: %w", err)
			} else if owners <= 1 {
				return lastOwner()
			}
		}
		if err := st.Members.DeleteMember(ctx, p.SubscriptionID, id); err != nil {
			return fmt.Errorf("delete member: %w", err)
		}
		e := p.AuditEntry("member.removed", "user", string(id))
		e.Details = map[string]any{"role": string(target.MemberRole)}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return err
	}
	s.d.Principals.Revoke(ctx, ports.Revocation{UserID: id})
	return nil
}

// memberOf returns the subscription's user; ENotFound for another
// tenant's, so that their existence is not revealed.
func (s *Service) memberOf(ctx context.Context, st ports.Stores, sub ports.SubscriptionID, id ports.UserID) (ports.User, error) {
	u, err := st.Users.GetUser(ctx, id)
	switch {
	case ports.IsCode(err, ports.ENotFound) || err == nil && u.SubscriptionID != sub:
		return ports.User{}, ports.Errorf(ports.ENotFound, "member not found")
	case err != nil:
		return ports.User{}, fmt.Errorf("get member: %w", err)
	}
	return u, nil
}

func (s *Service) setRole(ctx context.Context, st ports.Stores, id ports.UserID, role ports.MemberRole, now time.Time) (ports.User, error) {
	u, err := st.Users.UpdateUser(ctx, id, func(u *ports.User) error {
		u.MemberRole = role
		u.UpdatedAt = now
		return nil
	})
	if err != nil {
		return ports.User{}, fmt.Errorf("set role: %w", err)
	}
	return withoutSecrets(u), nil
}

// requireMember is the core's own check of the role (the HTTP adapter's
// route table checks it first): member routes are for users only.
func (s *Service) requireMember(p ports.Principal, min ports.MemberRole) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	return p.RequireMemberRole(min)
}

// checkInvitedRole accepts the roles one can be invited with.
func checkInvitedRole(r ports.MemberRole) *ports.FieldError {
	switch r {
	case ports.MemberAdmin, ports.MemberDeveloper, ports.MemberViewer:
		return nil
	case ports.MemberOwner:
		return &ports.FieldError{Field: "role", Message: "ownership is transferred (PATCH /members/{userId}), not invited"}
	case "":
		return &ports.FieldError{Field: "role", Message: "is required"}
	}
	return &ports.FieldError{Field: "role", Message: "must be admin, developer or viewer"}
}

// wellFormedInvite rejects garbage before it costs a database query.
func wellFormedInvite(v string) bool {
	if len(v) != inviteLen || !strings.HasPrefix(v, invitePrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v[len(invitePrefix):])
	return err == nil
}

func invalidInvitation() error {
	return ports.ReasonError(ports.EUnauthorized, "invalid_invitation", "the invitation is unknown, used or expired")
}

func lastOwner() error {
	return ports.ReasonError(ports.EConflict, "last_owner", "the last owner cannot leave or be demoted; transfer ownership first")
}
