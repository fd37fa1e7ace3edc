package nodecalls

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// GroupsAdapter is what NewGroups wraps.
type GroupsAdapter interface {
	ports.WAGroups
	ports.WAGroupMembers
}

// Groups is the groups ports with every call run on the node holding the
// instance: WhatsApp answers them over its live connection (SPEC §16).
type Groups struct {
	create       func(context.Context, ports.InstanceID, createGroupReq) (createGroupResp, error)
	list         func(context.Context, ports.InstanceID, struct{}) ([]ports.Group, error)
	info         func(context.Context, ports.InstanceID, string) (ports.Group, error)
	update       func(context.Context, ports.InstanceID, updateGroupReq) error
	picture      func(context.Context, ports.InstanceID, groupPictureReq) error
	leave        func(context.Context, ports.InstanceID, string) error
	participants func(context.Context, ports.InstanceID, participantsReq) ([]ports.ParticipantResult, error)
	inviteLink   func(context.Context, ports.InstanceID, inviteLinkReq) (string, error)
	join         func(context.Context, ports.InstanceID, string) (string, error)
}

var (
	_ ports.WAGroups       = (*Groups)(nil)
	_ ports.WAGroupMembers = (*Groups)(nil)
)

// The requests and answers of the calls with more than one value.
type (
	createGroupReq struct {
		Subject, Description string
		Participants         []string
	}
	createGroupResp struct {
		Group   ports.Group
		Results []ports.ParticipantResult
	}
	updateGroupReq struct {
		Group   string
		Changes ports.GroupChanges
	}
	groupPictureReq struct {
		Group string
		JPEG  []byte
	}
	participantsReq struct {
		Group        string
		Action       ports.ParticipantAction
		Participants []string
	}
	inviteLinkReq struct {
		Group string
		Reset bool
	}
)

// NewGroups registers wa's group calls on r and returns the ports that
// route them.
func NewGroups(r *Router, wa GroupsAdapter) *Groups {
	return &Groups{
		create: Route(r, "groups.create", func(ctx context.Context, id ports.InstanceID, q createGroupReq) (createGroupResp, error) {
			g, res, err := wa.CreateGroup(ctx, id, q.Subject, q.Participants, q.Description)
			return createGroupResp{Group: g, Results: res}, err
		}),
		list: Route(r, "groups.list", func(ctx context.Context, id ports.InstanceID, _ struct{}) ([]ports.Group, error) {
			return wa.Groups(ctx, id)
		}),
		info: Route(r, "groups.info", wa.GroupInfo),
		update: RouteErr(r, "groups.update", func(ctx context.Context, id ports.InstanceID, q updateGroupReq) error {
			return wa.UpdateGroup(ctx, id, q.Group, q.Changes)
		}),
		picture: RouteErr(r, "groups.picture", func(ctx context.Context, id ports.InstanceID, q groupPictureReq) error {
			return wa.SetGroupPicture(ctx, id, q.Group, q.JPEG)
		}),
		leave: RouteErr(r, "groups.leave", wa.LeaveGroup),
		participants: Route(r, "groups.participants", func(ctx context.Context, id ports.InstanceID, q participantsReq) ([]ports.ParticipantResult, error) {
			return wa.UpdateParticipants(ctx, id, q.Group, q.Action, q.Participants)
		}),
		inviteLink: Route(r, "groups.invite-link", func(ctx context.Context, id ports.InstanceID, q inviteLinkReq) (string, error) {
			return wa.InviteLink(ctx, id, q.Group, q.Reset)
		}),
		join: Route(r, "groups.join", wa.JoinGroup),
	}
}

// CreateGroup runs on the instance's holder.
func (g *Groups) CreateGroup(ctx context.Context, id ports.InstanceID, subject string, participants []string, description string) (ports.Group, []ports.ParticipantResult, error) {
	r, err := g.create(ctx, id, createGroupReq{Subject: subject, Description: description, Participants: participants})
	return r.Group, r.Results, err
}

// Groups runs on the instance's holder.
func (g *Groups) Groups(ctx context.Context, id ports.InstanceID) ([]ports.Group, error) {
	return g.list(ctx, id, struct{}{})
}

// GroupInfo runs on the instance's holder.
func (g *Groups) GroupInfo(ctx context.Context, id ports.InstanceID, group string) (ports.Group, error) {
	return g.info(ctx, id, group)
}

// UpdateGroup runs on the instance's holder.
func (g *Groups) UpdateGroup(ctx context.Context, id ports.InstanceID, group string, c ports.GroupChanges) error {
	return g.update(ctx, id, updateGroupReq{Group: group, Changes: c})
}

// SetGroupPicture runs on the instance's holder.
func (g *Groups) SetGroupPicture(ctx context.Context, id ports.InstanceID, group string, jpeg []byte) error {
	return g.picture(ctx, id, groupPictureReq{Group: group, JPEG: jpeg})
}

// LeaveGroup runs on the instance's holder.
func (g *Groups) LeaveGroup(ctx context.Context, id ports.InstanceID, group string) error {
	return g.leave(ctx, id, group)
}

// UpdateParticipants runs on the instance's holder.
func (g *Groups) UpdateParticipants(ctx context.Context, id ports.InstanceID, group string, action ports.ParticipantAction, participants []string) ([]ports.ParticipantResult, error) {
	return g.participants(ctx, id, participantsReq{Group: group, Action: action, Participants: participants})
}

// InviteLink runs on the instance's holder.
func (g *Groups) InviteLink(ctx context.Context, id ports.InstanceID, group string, reset bool) (string, error) {
	return g.inviteLink(ctx, id, inviteLinkReq{Group: group, Reset: reset})
}

// JoinGroup runs on the instance's holder.
func (g *Groups) JoinGroup(ctx context.Context, id ports.InstanceID, link string) (string, error) {
	return g.join(ctx, id, link)
}
