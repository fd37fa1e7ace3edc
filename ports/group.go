package ports

import (
	"context"
	"time"
)

// Groups (SPEC §16): the WhatsApp groups an instance's number is in.

// GroupRole is a participant's role in a group.
type GroupRole string

// The roles.
const (
	GroupMember     GroupRole = "member"
	GroupAdmin      GroupRole = "admin"
	GroupSuperAdmin GroupRole = "superadmin"
)

// Group is a WhatsApp group as its members see it.
type Group struct {
	JID              string // …@g.us
	Subject          string
	Description      string
	Owner            string // the creator's phone number, when known
	CreatedAt        time.Time
	Participants     []GroupParticipant
	Announce         bool // only admins send
	Locked           bool // only admins edit the group's info
	EphemeralSeconds uint32
}

// GroupParticipant is one member of a group.
type GroupParticipant struct {
	PhoneNumber string // digits; empty when WhatsApp only gave a LID
	JID         string
	Role        GroupRole
}

// GroupChanges are the settings a PATCH changes; nil fields stay.
type GroupChanges struct {
	Subject          *string
	Description      *string
	Announce         *bool
	Locked           *bool
	EphemeralSeconds *uint32
}

// ParticipantAction is a change to a group's members.
type ParticipantAction string

// The participant actions.
const (
	ParticipantAdd     ParticipantAction = "add"
	ParticipantRemove  ParticipantAction = "remove"
	ParticipantPromote ParticipantAction = "promote"
	ParticipantDemote  ParticipantAction = "demote"
)

// The per-number results of a participant change.
const (
	ParticipantOK            = "ok"
	ParticipantNotOnWhatsApp = "not_on_whatsapp"
	ParticipantForbidden     = "forbidden" // the number's privacy refuses adds: invite instead
	ParticipantAlreadyMember = "already_member"
	ParticipantNotMember     = "not_member"
	ParticipantNotAllowed    = "not_allowed" // e.g. demoting the group's creator
	ParticipantFailed        = "failed"
)

// ParticipantResult is what WhatsApp answered for one number.
type ParticipantResult struct {
	PhoneNumber string
	Action      ParticipantAction
	Status      string
}

// WAGroups is the port, implemented by the WhatsApp adapter, that manages
// an instance's groups. Every method is EConflict (instance_not_connected)
// when the instance is not connected, ENotFound for a group that does not
// exist or that the number is not in, EForbidden (forbidden) when WhatsApp
// refuses because the number is not an admin, EInvalid for what WhatsApp
// finds malformed, and EUnavailable when WhatsApp did not answer.
type WAGroups interface {
	// CreateGroup creates a group with the instance's number as its
	// superadmin and the participants (JIDs) as members.
	CreateGroup(ctx context.Context, id InstanceID, subject string, participants []string, description string) (Group, []ParticipantResult, error)
	// Groups lists the groups the number is in.
	Groups(ctx context.Context, id InstanceID) ([]Group, error)
	// GroupInfo returns one group.
	GroupInfo(ctx context.Context, id InstanceID, group string) (Group, error)
	// UpdateGroup changes the group's settings that c sets.
	UpdateGroup(ctx context.Context, id InstanceID, group string, c GroupChanges) error
	// SetGroupPicture sets the group's picture (a JPEG); nil removes it.
	SetGroupPicture(ctx context.Context, id InstanceID, group string, jpeg []byte) error
	// LeaveGroup makes the number leave the group.
	LeaveGroup(ctx context.Context, id InstanceID, group string) error
}

// WAGroupMembers is the port, implemented by the WhatsApp adapter, that
// changes who is in a group. Errors as WAGroups.
type WAGroupMembers interface {
	// UpdateParticipants adds, removes, promotes or demotes the
	// participants (JIDs); one result per participant.
	UpdateParticipants(ctx context.Context, id InstanceID, group string, action ParticipantAction, participants []string) ([]ParticipantResult, error)
	// InviteLink returns the group's invite link; reset revokes it and
	// returns a new one.
	InviteLink(ctx context.Context, id InstanceID, group string, reset bool) (string, error)
	// JoinGroup joins the group of an invite link and returns its JID.
	// ENotFound for an unknown link, EConflict (link_revoked) for a
	// revoked one.
	JoinGroup(ctx context.Context, id InstanceID, link string) (string, error)
}

// The group events (SPEC §10).
const (
	EventGroupParticipants EventType = "group.participants"
	EventGroupUpdated      EventType = "group.updated"
)

// WAGroupChangeKind is the WAEvent kind of a group change; see Group.
const WAGroupChangeKind WAEventKind = "group_change"

// GroupParticipantsData is the data of a group.participants event.
type GroupParticipantsData struct {
	Group        string
	Action       string
	Participants []string
	By           string
}

// GroupUpdatedData is the data of a group.updated event.
type GroupUpdatedData struct {
	Group   string
	By      string
	Changes map[string]any
}

// WAGroupChange is a change to a group the instance is in, made by anyone
// (the instance itself included): members joined, left, were promoted or
// demoted (Action and Participants, phone numbers), or settings changed
// (Changes: subject, description, announce, locked, ephemeralSeconds,
// inviteLink, picture).
type WAGroupChange struct {
	Group        string
	By           string // the phone number of who made the change, when known
	Action       string // add, remove, promote, demote, join, leave; "" for settings
	Participants []string
	Changes      map[string]any
}
