package nodecalls_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/wagate/wagate/core/nodecalls"
	"github.com/wagate/wagate/ports"
)

// liveGroups is a holder's groups and contacts adapter: it answers for the
// instance it holds and records what reached it.
type liveGroups struct {
	got     []any
	group   ports.Group
	refused error
}

func (l *liveGroups) note(v ...any) { l.got = append(l.got, v) }

func (l *liveGroups) CreateGroup(_ context.Context, _ ports.InstanceID, subject string, ps []string, desc string) (ports.Group, []ports.ParticipantResult, error) {
	l.note("create", subject, ps, desc)
	return l.group, []ports.ParticipantResult{{PhoneNumber: ps[0], Action: ports.ParticipantAdd, Status: ports.ParticipantNotOnWhatsApp}}, nil
}
func (l *liveGroups) Groups(context.Context, ports.InstanceID) ([]ports.Group, error) {
	return []ports.Group{l.group}, nil
}
func (l *liveGroups) GroupInfo(_ context.Context, _ ports.InstanceID, g string) (ports.Group, error) {
	l.note("info", g)
	return l.group, nil
}
func (l *liveGroups) UpdateGroup(_ context.Context, _ ports.InstanceID, g string, c ports.GroupChanges) error {
	l.note("update", g, *c.Subject, c.Description == nil, *c.EphemeralSeconds)
	return l.refused
}
func (l *liveGroups) SetGroupPicture(_ context.Context, _ ports.InstanceID, g string, jpeg []byte) error {
	l.note("picture", g, string(jpeg))
	return nil
}
func (l *liveGroups) LeaveGroup(_ context.Context, _ ports.InstanceID, g string) error {
	l.note("leave", g)
	return nil
}
func (l *liveGroups) UpdateParticipants(_ context.Context, _ ports.InstanceID, g string, a ports.ParticipantAction, ps []string) ([]ports.ParticipantResult, error) {
	l.note("participants", g, a, ps)
	return []ports.ParticipantResult{{PhoneNumber: ps[0], Action: a, Status: ports.ParticipantOK}}, nil
}
func (l *liveGroups) InviteLink(_ context.Context, _ ports.InstanceID, g string, reset bool) (string, error) {
	l.note("invite", g, reset)
	return "https://chat.whatsapp.com/abc", nil
}
func (l *liveGroups) JoinGroup(_ context.Context, _ ports.InstanceID, link string) (string, error) {
	l.note("join", link)
	return "1203@g.us", nil
}
func (l *liveGroups) Contacts(context.Context, ports.InstanceID) ([]ports.WAContact, error) {
	return []ports.WAContact{{PhoneNumber: "15550001111", PushName: "Ann"}}, nil
}
func (l *liveGroups) ContactProfile(_ context.Context, _ ports.InstanceID, phone string) (ports.WAContactProfile, error) {
	return ports.WAContactProfile{PhoneNumber: phone, Exists: true, About: "hi"}, nil
}
func (l *liveGroups) Blocklist(context.Context, ports.InstanceID) ([]string, error) {
	return []string{"15550002222"}, nil
}
func (l *liveGroups) SetBlocked(_ context.Context, _ ports.InstanceID, phone string, blocked bool) ([]string, error) {
	l.note("block", phone, blocked)
	return []string{phone}, nil
}
func (l *liveGroups) SetPushName(_ context.Context, _ ports.InstanceID, name string) error {
	return ports.Errorf(ports.EUnsupported, "push name: %s", name)
}
func (l *liveGroups) SetAbout(_ context.Context, _ ports.InstanceID, text string) error {
	l.note("about", text)
	return nil
}
func (l *liveGroups) SetPicture(context.Context, ports.InstanceID, []byte) error { return nil }

// TestGroupAndContactCallsCrossNodes: every group, contact and profile
// call asked of a node that does not hold the instance reaches the holder
// with its arguments whole, and its answer or error comes back whole.
func TestGroupAndContactCallsCrossNodes(t *testing.T) {
	w := &wire{}
	holder := &liveGroups{
		group: ports.Group{JID: "1203@g.us", Subject: "Team", CreatedAt: time.Unix(1700000000, 0).UTC(),
			Participants: []ports.GroupParticipant{{PhoneNumber: "15550001111", JID: "15550001111@s.whatsapp.net", Role: ports.GroupSuperAdmin}}},
		refused: ports.Errorf(ports.EForbidden, "not an admin"),
	}
	other := &liveGroups{}
	rh := nodecalls.New(owns{"i1": true}, w)
	nodecalls.NewGroups(rh, holder)
	nodecalls.NewContacts(rh, holder)
	ro := nodecalls.New(owns{}, w)
	g := nodecalls.NewGroups(ro, other)
	c := nodecalls.NewContacts(ro, other)
	for _, r := range []*nodecalls.Router{rh, ro} {
		if err := r.Serve(); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()

	got, res, err := g.CreateGroup(ctx, "i1", "Team", []string{"15550003333"}, "desc")
	if err != nil || !reflect.DeepEqual(got, holder.group) || len(res) != 1 || res[0].Status != ports.ParticipantNotOnWhatsApp {
		t.Fatalf("create: got %+v %+v %v, want the holder's group and result", got, res, err)
	}
	subject, eph := "New", uint32(86400)
	err = g.UpdateGroup(ctx, "i1", "1203@g.us", ports.GroupChanges{Subject: &subject, EphemeralSeconds: &eph})
	if !ports.IsCode(err, ports.EForbidden) {
		t.Fatalf("update: got %v, want the holder's forbidden", err)
	}
	if err := g.SetGroupPicture(ctx, "i1", "1203@g.us", []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	if rs, err := g.UpdateParticipants(ctx, "i1", "1203@g.us", ports.ParticipantPromote, []string{"15550001111"}); err != nil || rs[0].Action != ports.ParticipantPromote {
		t.Fatalf("participants: got %+v %v", rs, err)
	}
	if link, err := g.InviteLink(ctx, "i1", "1203@g.us", true); err != nil || link == "" {
		t.Fatalf("invite link: got %q %v", link, err)
	}
	if jid, err := g.JoinGroup(ctx, "i1", "https://chat.whatsapp.com/abc"); err != nil || jid != "1203@g.us" {
		t.Fatalf("join: got %q %v", jid, err)
	}
	if p, err := c.ContactProfile(ctx, "i1", "15550001111"); err != nil || !p.Exists || p.About != "hi" {
		t.Fatalf("profile: got %+v %v", p, err)
	}
	if b, err := c.SetBlocked(ctx, "i1", "15550004444", true); err != nil || len(b) != 1 {
		t.Fatalf("block: got %v %v", b, err)
	}
	if err := c.SetPushName(ctx, "i1", "Me"); !ports.IsCode(err, ports.EUnsupported) {
		t.Fatalf("push name: got %v, want the holder's not_supported", err)
	}
	if _, err := g.Groups(ctx, "nobody"); !ports.IsNotHeld(err) {
		t.Fatalf("instance nobody holds: got %v, want not held", err)
	}

	want := []any{
		[]any{"create", "Team", []string{"15550003333"}, "desc"},
		[]any{"update", "1203@g.us", "New", true, uint32(86400)},
		[]any{"picture", "1203@g.us", "jpeg"},
		[]any{"participants", "1203@g.us", ports.ParticipantPromote, []string{"15550001111"}},
		[]any{"invite", "1203@g.us", true},
		[]any{"join", "https://chat.whatsapp.com/abc"},
		[]any{"block", "15550004444", true},
	}
	if !reflect.DeepEqual(holder.got, want) {
		t.Fatalf("the holder saw %v, want %v", holder.got, want)
	}
	if len(other.got) != 0 {
		t.Fatalf("the node without the instance ran %v itself", other.got)
	}
}
