package whatsapp

import (
	"context"
	"errors"
	"strings"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/ports"
)

// Groups (SPEC §16) through whatsmeow's group calls
// (WHATSAPP-SIM-FEATURES §3.1).

var (
	_ ports.WAGroups       = (*Manager)(nil)
	_ ports.WAGroupMembers = (*Manager)(nil)
)

// groupError translates whatsmeow's answers to a group request.
func groupError(op string, err error) error {
	switch {
	case errors.Is(err, wa.ErrGroupNotFound), errors.Is(err, wa.ErrIQNotFound):
		return ports.Errorf(ports.ENotFound, "group not found")
	case errors.Is(err, wa.ErrNotInGroup):
		return ports.Errorf(ports.ENotFound, "group not found")
	case errors.Is(err, wa.ErrIQForbidden), errors.Is(err, wa.ErrGroupInviteLinkUnauthorized), errors.Is(err, wa.ErrIQNotAuthorized):
		return ports.ReasonError(ports.EForbidden, "forbidden", "WhatsApp refused: the number is not an admin of the group")
	case errors.Is(err, wa.ErrInviteLinkRevoked):
		return ports.ReasonError(ports.EConflict, "link_revoked", "the invite link was revoked")
	case errors.Is(err, wa.ErrInviteLinkInvalid):
		return ports.Errorf(ports.ENotFound, "no group has this invite link")
	case errors.Is(err, wa.ErrIQBadRequest), errors.Is(err, wa.ErrInvalidImageFormat), errors.Is(err, wa.ErrIQNotAcceptable),
		errors.Is(err, wa.ErrInvalidDisappearingTimer):
		return ports.Errorf(ports.EInvalid, "%s: WhatsApp refused the request", op)
	}
	return sendError(op, err)
}

func groupJID(group string) (types.JID, error) {
	jid, err := types.ParseJID(group)
	if err != nil || jid.Server != types.GroupServer || jid.User == "" {
		return jid, ports.InvalidFields(ports.FieldError{Field: "group", Message: "must be a group JID (…@g.us)"})
	}
	return jid, nil
}

func userJIDs(jids []string) ([]types.JID, error) {
	out := make([]types.JID, 0, len(jids))
	for _, s := range jids {
		jid, err := types.ParseJID(s)
		if err != nil || jid.User == "" {
			return nil, ports.Errorf(ports.EInvalid, "participant %q is not a JID", s)
		}
		out = append(out, jid)
	}
	return out, nil
}

// memberPhone is the phone number of a participant: its JID's user for a
// phone-number JID, else the phone number WhatsApp gave beside a LID.
func memberPhone(jid, pn types.JID) string {
	if jid.Server == types.DefaultUserServer {
		return jid.User
	}
	if !pn.IsEmpty() {
		return pn.User
	}
	return ""
}

func toGroup(info *types.GroupInfo) ports.Group {
	g := ports.Group{JID: info.JID.String(), Subject: info.Name, Description: info.Topic,
		Owner: memberPhone(info.OwnerJID, info.OwnerPN), CreatedAt: info.GroupCreated,
		Announce: info.IsAnnounce, Locked: info.IsLocked, Participants: make([]ports.GroupParticipant, 0, len(info.Participants))}
	if info.IsEphemeral {
		g.EphemeralSeconds = info.DisappearingTimer
	}
	for _, p := range info.Participants {
		if p.Error != 0 {
			continue
		}
		role := ports.GroupMember
		switch {
		case p.IsSuperAdmin:
			role = ports.GroupSuperAdmin
		case p.IsAdmin:
			role = ports.GroupAdmin
		}
		jid := p.JID
		if !p.PhoneNumber.IsEmpty() {
			jid = p.PhoneNumber
		}
		g.Participants = append(g.Participants, ports.GroupParticipant{PhoneNumber: memberPhone(p.JID, p.PhoneNumber), JID: jid.String(), Role: role})
	}
	return g
}

// participantStatus names WhatsApp's per-participant error code.
func participantStatus(code int) string {
	switch code {
	case 0:
		return ports.ParticipantOK
	case 403:
		return ports.ParticipantForbidden
	case 404:
		return ports.ParticipantNotOnWhatsApp
	case 409:
		return ports.ParticipantAlreadyMember
	case 406, 401:
		return ports.ParticipantNotAllowed
	}
	return ports.ParticipantFailed
}

// CreateGroup creates a group; numbers WhatsApp refused come back as
// results, the group is created with the others.
func (m *Manager) CreateGroup(ctx context.Context, id ports.InstanceID, subject string, participants []string, description string) (ports.Group, []ports.ParticipantResult, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return ports.Group{}, nil, err
	}
	jids, err := userJIDs(participants)
	if err != nil {
		return ports.Group{}, nil, err
	}
	info, err := cli.CreateGroup(ctx, wa.ReqCreateGroup{Name: subject, Participants: jids})
	if err != nil {
		return ports.Group{}, nil, groupError("create group", err)
	}
	var results []ports.ParticipantResult
	for _, p := range info.Participants {
		if p.JID.User == cli.Store.GetJID().User || (cli.Store.GetLID().User != "" && p.JID.User == cli.Store.GetLID().User) {
			continue
		}
		results = append(results, ports.ParticipantResult{PhoneNumber: memberPhone(p.JID, p.PhoneNumber), Action: ports.ParticipantAdd, Status: participantStatus(p.Error)})
	}
	if description != "" {
		if err := cli.SetGroupTopic(ctx, info.JID, "", "", description); err != nil {
			return ports.Group{}, nil, groupError("set description", err)
		}
		info.Topic = description
	}
	return toGroup(info), results, nil
}

// Groups lists the groups the number is in.
func (m *Manager) Groups(ctx context.Context, id ports.InstanceID) ([]ports.Group, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return nil, err
	}
	infos, err := cli.GetJoinedGroups(ctx)
	if err != nil {
		return nil, groupError("list groups", err)
	}
	out := make([]ports.Group, 0, len(infos))
	for _, info := range infos {
		out = append(out, toGroup(info))
	}
	return out, nil
}

// GroupInfo returns one group.
func (m *Manager) GroupInfo(ctx context.Context, id ports.InstanceID, group string) (ports.Group, error) {
	cli, jid, err := m.groupClient(id, group)
	if err != nil {
		return ports.Group{}, err
	}
	info, err := cli.GetGroupInfo(ctx, jid)
	if err != nil {
		return ports.Group{}, groupError("group info", err)
	}
	return toGroup(info), nil
}

func (m *Manager) groupClient(id ports.InstanceID, group string) (*wa.Client, types.JID, error) {
	jid, err := groupJID(group)
	if err != nil {
		return nil, jid, err
	}
	cli, err := m.loggedIn(id)
	return cli, jid, err
}

// UpdateGroup changes the settings c sets, one request each.
func (m *Manager) UpdateGroup(ctx context.Context, id ports.InstanceID, group string, c ports.GroupChanges) error {
	cli, jid, err := m.groupClient(id, group)
	if err != nil {
		return err
	}
	steps := []struct {
		set bool
		op  string
		do  func() error
	}{
		{c.Subject != nil, "set subject", func() error { return cli.SetGroupName(ctx, jid, *c.Subject) }},
		{c.Description != nil, "set description", func() error { return cli.SetGroupTopic(ctx, jid, "", "", *c.Description) }},
		{c.Announce != nil, "set announce", func() error { return cli.SetGroupAnnounce(ctx, jid, *c.Announce) }},
		{c.Locked != nil, "set locked", func() error { return cli.SetGroupLocked(ctx, jid, *c.Locked) }},
		{c.EphemeralSeconds != nil, "set timer", func() error {
			return cli.SetDisappearingTimer(ctx, jid, timerDuration(*c.EphemeralSeconds), timeZero)
		}},
	}
	for _, s := range steps {
		if !s.set {
			continue
		}
		if err := s.do(); err != nil {
			return groupError(s.op, err)
		}
	}
	return nil
}

// SetGroupPicture sets or (nil) removes the group's picture.
func (m *Manager) SetGroupPicture(ctx context.Context, id ports.InstanceID, group string, jpeg []byte) error {
	cli, jid, err := m.groupClient(id, group)
	if err != nil {
		return err
	}
	if _, err := cli.SetGroupPhoto(ctx, jid, jpeg); err != nil {
		return groupError("set picture", err)
	}
	return nil
}

// LeaveGroup leaves the group.
func (m *Manager) LeaveGroup(ctx context.Context, id ports.InstanceID, group string) error {
	cli, jid, err := m.groupClient(id, group)
	if err != nil {
		return err
	}
	if _, err := cli.GetGroupInfo(ctx, jid); err != nil { // WhatsApp answers a leave of any group
		return groupError("leave group", err)
	}
	if err := cli.LeaveGroup(ctx, jid); err != nil {
		return groupError("leave group", err)
	}
	return nil
}

// UpdateParticipants changes members; one result per participant.
func (m *Manager) UpdateParticipants(ctx context.Context, id ports.InstanceID, group string, action ports.ParticipantAction, participants []string) ([]ports.ParticipantResult, error) {
	cli, jid, err := m.groupClient(id, group)
	if err != nil {
		return nil, err
	}
	jids, err := userJIDs(participants)
	if err != nil {
		return nil, err
	}
	res, err := cli.UpdateGroupParticipants(ctx, jid, jids, wa.ParticipantChange(action))
	if err != nil {
		return nil, groupError(string(action)+" participants", err)
	}
	out := make([]ports.ParticipantResult, 0, len(res))
	for _, p := range res {
		out = append(out, ports.ParticipantResult{PhoneNumber: memberPhone(p.JID, p.PhoneNumber), Action: action, Status: participantStatus(p.Error)})
	}
	return out, nil
}

// InviteLink returns (reset: replaces) the group's invite link.
func (m *Manager) InviteLink(ctx context.Context, id ports.InstanceID, group string, reset bool) (string, error) {
	cli, jid, err := m.groupClient(id, group)
	if err != nil {
		return "", err
	}
	link, err := cli.GetGroupInviteLink(ctx, jid, reset)
	if err != nil {
		return "", groupError("invite link", err)
	}
	return link, nil
}

// JoinGroup joins by an invite link.
func (m *Manager) JoinGroup(ctx context.Context, id ports.InstanceID, link string) (string, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return "", err
	}
	code := strings.TrimPrefix(link, wa.InviteLinkPrefix)
	jid, err := cli.JoinGroupWithLink(ctx, code)
	if err != nil {
		return "", groupError("join group", err)
	}
	if jid.Server != types.GroupServer {
		return "", ports.Errorf(ports.EUnavailable, "join group: WhatsApp answered %s", jid)
	}
	return jid.String(), nil
}

var timeZero time.Time

func timerDuration(secs uint32) time.Duration { return time.Duration(secs) * time.Second }
