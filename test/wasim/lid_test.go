package wasim_test

import (
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/wasim"
)

// WHATSAPP-SIM-FEATURES §2.3 with an unmodified whatsmeow: a contact
// writing from its LID (through the control API) arrives with sender_pn,
// which whatsmeow stores; GetUserInfo answers the LID; a send to the LID
// JID reaches the contact addressed by LID.
func TestLIDAddressing(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15552000")
	contact := sim.Contact("15552001")
	lid, pn := contact.LID(), types.NewJID("15552001", types.DefaultUserServer)
	if lid.Server != types.HiddenUserServer || lid.User == "" {
		t.Fatalf("got LID %s, want a …@lid JID", lid)
	}

	if err := wasim.NewRemote(sim.Addr()).ContactSendTextFromLID(ctxTimeout(t), "15552001", "15552000", "by lid"); err != nil {
		t.Fatalf("remote send from the LID: %v", err)
	}
	msg := waitEvent[*events.Message](t, c)
	if msg.Message.GetConversation() != "by lid" || msg.Info.Sender.ToNonAD() != lid || msg.Info.SenderAlt.ToNonAD() != pn {
		t.Errorf("got %q from %s (alt %s), want %q from %s (alt %s)", msg.Message.GetConversation(), msg.Info.Sender, msg.Info.SenderAlt, "by lid", lid, pn)
	}
	if got, err := c.Store.LIDs.GetPNForLID(ctxTimeout(t), lid); err != nil || got != pn {
		t.Errorf("LID store: got %s (%v), want %s", got, err, pn)
	}

	info, err := c.GetUserInfo(ctxTimeout(t), []types.JID{pn})
	if err != nil || info[pn].LID != lid {
		t.Errorf("GetUserInfo: got %+v (%v), want LID %s", info[pn], err, lid)
	}

	if _, err := c.SendMessage(ctxTimeout(t), lid, &waE2E.Message{Conversation: proto.String("to your lid")}); err != nil {
		t.Fatalf("send to the LID: %v", err)
	}
	select {
	case r := <-contact.Messages():
		if r.Text != "to your lid" || !r.LID {
			t.Errorf("the contact got %q (by LID %v), want %q by LID", r.Text, r.LID, "to your lid")
		}
	case <-time.After(waitTimeout):
		t.Fatal("the contact received nothing")
	}

	// A script may name the linked account by its LID too.
	if err := contact.SendText(ctxTimeout(t), c.Store.GetLID().String(), "to the account's lid"); err != nil {
		t.Fatalf("send to the account's LID: %v", err)
	}
	if got := waitEvent[*events.Message](t, c).Message.GetConversation(); got != "to the account's lid" {
		t.Errorf("got %q, want %q", got, "to the account's lid")
	}
}
