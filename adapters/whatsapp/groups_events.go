package whatsapp

import (
	"context"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/ports"
)

// groupEvents turns whatsmeow's group notifications (a member joined,
// left, was promoted or demoted; a setting changed; the instance was added
// to a group; the picture changed) into group changes, participants as
// phone-number JIDs wherever the mapping is known.
func (s *session) groupEvents(ctx context.Context, cli *wa.Client, evt any) []ports.WAEvent {
	var changes []*ports.WAGroupChange
	switch e := evt.(type) {
	case *events.GroupInfo:
		changes = groupInfoChanges(ctx, cli, e)
	case *events.JoinedGroup:
		action := "add"
		if e.Reason == "invite" {
			action = "join"
		}
		var own string
		if cli != nil && cli.Store != nil {
			own = jidString(cli.Store.GetJID().ToNonAD())
		}
		var by string
		if e.Sender != nil {
			alt := types.EmptyJID
			if e.SenderPN != nil {
				alt = *e.SenderPN
			}
			by = person(ctx, cli, *e.Sender, alt)
		}
		changes = append(changes, &ports.WAGroupChange{Group: e.JID.String(), Action: action, Participants: []string{own}, By: by})
	case *events.Picture:
		if e.JID.Server != types.GroupServer {
			return nil
		}
		v := "set"
		if e.Remove {
			v = "removed"
		}
		changes = append(changes, &ports.WAGroupChange{Group: e.JID.String(), By: person(ctx, cli, e.Author, types.EmptyJID),
			Changes: map[string]any{"picture": v}})
	}
	out := make([]ports.WAEvent, 0, len(changes))
	for _, c := range changes {
		out = append(out, ports.WAEvent{Instance: s.id, Kind: ports.WAGroupChangeKind, At: s.m.now(), Group: c})
	}
	return out
}

// person is the phone-number JID of a user, as a string ("" for none).
func person(ctx context.Context, cli *wa.Client, jid, alt types.JID) string {
	if jid.IsEmpty() {
		return ""
	}
	pn, _ := phoneOf(ctx, cli, jid, alt)
	return pn.String()
}

func people(ctx context.Context, cli *wa.Client, jids []types.JID) []string {
	out := make([]string, 0, len(jids))
	for _, j := range jids {
		out = append(out, person(ctx, cli, j, types.EmptyJID))
	}
	return out
}

func groupInfoChanges(ctx context.Context, cli *wa.Client, e *events.GroupInfo) []*ports.WAGroupChange {
	g := e.JID.String()
	by := ""
	if e.Sender != nil {
		alt := types.EmptyJID
		if e.SenderPN != nil {
			alt = *e.SenderPN
		}
		by = person(ctx, cli, *e.Sender, alt)
	}
	var out []*ports.WAGroupChange
	members := func(action string, jids []types.JID) {
		if len(jids) == 0 {
			return
		}
		ps := people(ctx, cli, jids)
		// Someone who adds or removes only themselves joined or left.
		if len(ps) == 1 && ps[0] == by {
			switch action {
			case "add":
				action = "join"
			case "remove":
				action = "leave"
			}
		}
		out = append(out, &ports.WAGroupChange{Group: g, Action: action, Participants: ps, By: by})
	}
	members("add", e.Join)
	members("remove", e.Leave)
	members("promote", e.Promote)
	members("demote", e.Demote)
	changes := map[string]any{}
	if e.Name != nil {
		changes["subject"] = e.Name.Name
	}
	if e.Topic != nil {
		changes["description"] = e.Topic.Topic
	}
	if e.Announce != nil {
		changes["announce"] = e.Announce.IsAnnounce
	}
	if e.Locked != nil {
		changes["locked"] = e.Locked.IsLocked
	}
	if e.Ephemeral != nil {
		secs := uint32(0)
		if e.Ephemeral.IsEphemeral {
			secs = e.Ephemeral.DisappearingTimer
		}
		changes["ephemeralSeconds"] = secs
	}
	if e.NewInviteLink != nil {
		changes["inviteLink"] = wa.InviteLinkPrefix + *e.NewInviteLink
	}
	if e.Delete != nil {
		changes["deleted"] = true
	}
	if len(changes) > 0 {
		out = append(out, &ports.WAGroupChange{Group: g, By: by, Changes: changes})
	}
	return out
}
