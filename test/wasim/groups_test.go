package wasim_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

func pn(phone string) types.JID { return types.NewJID(phone, types.DefaultUserServer) }

// waitGroupInfo returns the next GroupInfo event of a group for which ok
// holds, skipping the others (earlier changes the client saw too).
func waitGroupInfo(t *testing.T, c *client, g types.JID, ok func(*events.GroupInfo) bool) *events.GroupInfo {
	t.Helper()
	for {
		evt := waitEvent[*events.GroupInfo](t, c)
		if evt.JID == g && ok(evt) {
			return evt
		}
	}
}

func anyInfo(*events.GroupInfo) bool    { return true }
func hasLeave(e *events.GroupInfo) bool { return len(e.Leave) > 0 }
func hasJoin(e *events.GroupInfo) bool  { return len(e.Join) > 0 }
func hasName(e *events.GroupInfo) bool  { return e.Name != nil }

// TestGroupLifecycle drives two whatsmeow clients and two phones through a
// group's life: create, messages both ways with sender keys (each phone
// asserts what it decrypted), settings, participants with admin rules and
// per-number results, invite links, leave, and a group made on a phone.
func TestGroupLifecycle(t *testing.T) {
	sim := newSim(t, wasimOptions())
	container := newContainer(t)
	alice := pairQR(t, sim, container, "15550900")
	bob := pairQR(t, sim, container, "15550901")
	carol, dave := sim.Contact("15550902"), sim.Contact("15550903")

	info, err := alice.CreateGroup(ctxTimeout(t), whatsmeow.ReqCreateGroup{
		Name: "Team", Participants: []types.JID{pn("15550901"), pn("15550902"), pn("15550903"), pn("99900001")},
	})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	g := info.JID
	if info.Name != "Team" || len(info.Participants) != 5 {
		t.Fatalf("got name %q and %d participants, want Team and 5 (4 members, 1 refused)", info.Name, len(info.Participants))
	}
	joined := waitEvent[*events.JoinedGroup](t, bob)
	if joined.JID != g || joined.Name != "Team" || len(joined.Participants) != 4 {
		t.Fatalf("bob got joined %s %q with %d members, want %s Team with 4", joined.JID, joined.Name, len(joined.Participants), g)
	}

	// The instance sends with its sender key; every member decrypts.
	resp, err := alice.SendMessage(ctxTimeout(t), g, &waE2E.Message{Conversation: proto.String("hello team")})
	if err != nil {
		t.Fatalf("send to group: %v", err)
	}
	for _, ct := range []string{"15550902", "15550903"} {
		got := recv(t, sim.Contact(ct))
		if got.Text != "hello team" || got.Chat != g.String() || got.ID != resp.ID || got.From != jidOf("15550900", 1) {
			t.Fatalf("%s got %q in %s id %s from %s, want %q in %s id %s from %s", ct, got.Text, got.Chat, got.ID, got.From,
				"hello team", g, resp.ID, jidOf("15550900", 1))
		}
	}
	msg := waitEvent[*events.Message](t, bob)
	for msg.Message.GetConversation() == "" { // the SKDM-only event comes first
		msg = waitEvent[*events.Message](t, bob)
	}
	if msg.Info.Chat != g || msg.Info.Sender.User != "15550900" || msg.Message.GetConversation() != "hello team" {
		t.Fatalf("bob got %q in %s from %s, want hello team in %s from 15550900", msg.Message.GetConversation(), msg.Info.Chat, msg.Info.Sender, g)
	}
	// A second send reuses the sender key (a new iteration).
	if _, err := alice.SendMessage(ctxTimeout(t), g, &waE2E.Message{Conversation: proto.String("again")}); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if got := recv(t, carol); got.Text != "again" {
		t.Fatalf("carol got %q, want again", got.Text)
	}
	if got := recv(t, dave); got.Text != "again" {
		t.Fatalf("dave got %q, want again", got.Text)
	}

	// A phone sends to the group; both instances decrypt it.
	if _, err := carol.SendGroup(ctxTimeout(t), g, &waE2E.Message{Conversation: proto.String("from carol")}); err != nil {
		t.Fatalf("carol send: %v", err)
	}
	for _, c := range []*client{alice, bob} {
		for {
			m := waitEvent[*events.Message](t, c)
			if t := m.Message.GetConversation(); t == "" || t == "again" {
				continue // the SKDM-only event, and bob's copy of alice's second send
			}
			if m.Info.Chat != g || m.Info.Sender.User != "15550902" || m.Message.GetConversation() != "from carol" {
				t.Fatalf("got %q in %s from %s, want from carol in %s from 15550902", m.Message.GetConversation(), m.Info.Chat, m.Info.Sender, g)
			}
			break
		}
	}

	// Settings: the admin changes them, members see events.
	if err := alice.SetGroupName(ctxTimeout(t), g, "Team 2"); err != nil {
		t.Fatalf("set name: %v", err)
	}
	if ev := waitGroupInfo(t, bob, g, hasName); ev.Name == nil || ev.Name.Name != "Team 2" {
		t.Fatalf("bob got %+v, want name Team 2", ev.Name)
	}
	if err := alice.SetGroupAnnounce(ctxTimeout(t), g, true); err != nil {
		t.Fatalf("announce: %v", err)
	}
	if ev := waitGroupInfo(t, bob, g, anyInfo); ev.Announce == nil || !ev.Announce.IsAnnounce {
		t.Fatalf("bob got %+v, want announce", ev.Announce)
	}
	// Not an admin: WhatsApp refuses the whole request.
	_, err = bob.UpdateGroupParticipants(ctxTimeout(t), g, []types.JID{pn("15550904")}, whatsmeow.ParticipantChangeAdd)
	if !errors.Is(err, whatsmeow.ErrIQForbidden) {
		t.Fatalf("non-admin add: got %v, want forbidden", err)
	}
	if _, err := bob.SendMessage(ctxTimeout(t), g, &waE2E.Message{Conversation: proto.String("muted")}); err == nil {
		t.Fatalf("non-admin send to an announcement group: got no error, want one")
	}
	if err := alice.SetGroupAnnounce(ctxTimeout(t), g, false); err != nil {
		t.Fatalf("not announce: %v", err)
	}
	waitGroupInfo(t, bob, g, anyInfo)

	// Per-number results.
	res, err := alice.UpdateGroupParticipants(ctxTimeout(t), g,
		[]types.JID{pn("15550904"), pn("99900002"), pn("99800003"), pn("15550902")}, whatsmeow.ParticipantChangeAdd)
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	codes := map[string]int{}
	for _, p := range res {
		codes[p.JID.User] = p.Error
	}
	if want := map[string]int{"15550904": 0, "99900002": 404, "99800003": 403, "15550902": 409}; !maps(codes, want) {
		t.Fatalf("got add results %v, want %v", codes, want)
	}
	if ev := waitGroupInfo(t, bob, g, hasJoin); len(ev.Join) != 1 || ev.Join[0].User != "15550904" {
		t.Fatalf("bob got join %v, want 15550904", ev.Join)
	}
	if _, err := alice.UpdateGroupParticipants(ctxTimeout(t), g, []types.JID{pn("15550901")}, whatsmeow.ParticipantChangePromote); err != nil {
		t.Fatalf("promote: %v", err)
	}
	if ev := waitGroupInfo(t, bob, g, func(e *events.GroupInfo) bool { return len(e.Promote) > 0 }); len(ev.Promote) != 1 || ev.Promote[0].User != "15550901" {
		t.Fatalf("bob got promote %v, want 15550901", ev.Promote)
	}
	if _, err := bob.UpdateGroupParticipants(ctxTimeout(t), g, []types.JID{pn("15550904")}, whatsmeow.ParticipantChangeRemove); err != nil {
		t.Fatalf("remove by the new admin: %v", err)
	}
	if ev := waitGroupInfo(t, alice, g, hasLeave); len(ev.Leave) != 1 || ev.Leave[0].User != "15550904" {
		t.Fatalf("alice got leave %v, want 15550904", ev.Leave)
	}

	// Invite links: get, revoke, join by link; a revoked link is gone.
	link, err := alice.GetGroupInviteLink(ctxTimeout(t), g, false)
	if err != nil {
		t.Fatalf("invite link: %v", err)
	}
	newLink, err := alice.GetGroupInviteLink(ctxTimeout(t), g, true)
	if err != nil || newLink == link {
		t.Fatalf("revoke: got %q, %v, want a new link", newLink, err)
	}
	if _, err := alice.JoinGroupWithLink(ctxTimeout(t), link); !errors.Is(err, whatsmeow.ErrInviteLinkRevoked) {
		t.Fatalf("join by a revoked link: got %v, want revoked", err)
	}
	if err := bob.LeaveGroup(ctxTimeout(t), g); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if ev := waitGroupInfo(t, alice, g, hasLeave); len(ev.Leave) != 1 || ev.Leave[0].User != "15550901" {
		t.Fatalf("alice got leave %v, want 15550901", ev.Leave)
	}
	if _, err := bob.GetGroupInfo(ctxTimeout(t), g); !errors.Is(err, whatsmeow.ErrNotInGroup) {
		t.Fatalf("info after leaving: got %v, want not in group", err)
	}
	joinedJID, err := bob.JoinGroupWithLink(ctxTimeout(t), newLink)
	if err != nil || joinedJID != g {
		t.Fatalf("join by link: got %s, %v, want %s", joinedJID, err, g)
	}
	if ev := waitGroupInfo(t, alice, g, hasJoin); len(ev.Join) != 1 || ev.Join[0].User != "15550901" || ev.JoinReason != "invite" {
		t.Fatalf("alice got join %v (%s), want 15550901 by invite", ev.Join, ev.JoinReason)
	}

	// A phone changes the subject and leaves; the instances see it.
	if err := sim.GroupSet("15550903", g, "subject", "Dave's name"); err != nil {
		t.Fatalf("phone sets subject: %v", err)
	}
	if ev := waitGroupInfo(t, alice, g, func(e *events.GroupInfo) bool { return e.Name != nil && e.Sender.User == "15550903" }); ev.Name == nil || ev.Name.Name != "Dave's name" || ev.Sender.User != "15550903" {
		t.Fatalf("alice got %+v by %s, want Dave's name by 15550903", ev.Name, ev.Sender)
	}
	if err := sim.GroupLeave("15550903", g); err != nil {
		t.Fatalf("phone leaves: %v", err)
	}
	if ev := waitGroupInfo(t, alice, g, hasLeave); len(ev.Leave) != 1 || ev.Leave[0].User != "15550903" {
		t.Fatalf("alice got leave %v, want 15550903", ev.Leave)
	}

	// Description, lock, timer, picture; then the full info and the list.
	if err := alice.SetGroupTopic(ctxTimeout(t), g, "", "", "the topic"); err != nil {
		t.Fatalf("topic: %v", err)
	}
	if err := alice.SetGroupLocked(ctxTimeout(t), g, true); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if err := alice.SetDisappearingTimer(ctxTimeout(t), g, whatsmeow.DisappearingTimer24Hours, time.Time{}); err != nil {
		t.Fatalf("timer: %v", err)
	}
	if _, err := alice.SetGroupPhoto(ctxTimeout(t), g, []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}); err != nil {
		t.Fatalf("photo: %v", err)
	}
	if sim.GroupPicture(g) == "" {
		t.Fatalf("got no group picture, want one")
	}
	got, err := alice.GetGroupInfo(ctxTimeout(t), g)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if got.Topic != "the topic" || !got.IsLocked || got.DisappearingTimer != 86400 || len(got.Participants) != 3 {
		t.Fatalf("got topic %q locked %v timer %d members %d, want the topic, true, 86400, 3", got.Topic, got.IsLocked, got.DisappearingTimer, len(got.Participants))
	}
	list, err := alice.GetJoinedGroups(ctxTimeout(t))
	if err != nil || !slices.ContainsFunc(list, func(gi *types.GroupInfo) bool { return gi.JID == g }) {
		t.Fatalf("joined groups: got %d, %v, want %s among them", len(list), err, g)
	}

	// A phone creates a group with the instance in it.
	pg, err := sim.GroupCreate("15550902", "Carol's", []string{"15550900"})
	if err != nil {
		t.Fatalf("phone creates group: %v", err)
	}
	j := waitEvent[*events.JoinedGroup](t, alice)
	for j.JID != pg {
		j = waitEvent[*events.JoinedGroup](t, alice)
	}
	if j.Name != "Carol's" {
		t.Fatalf("alice joined %q, want Carol's", j.Name)
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
