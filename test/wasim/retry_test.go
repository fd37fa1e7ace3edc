package wasim_test

import (
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// WHATSAPP-SIM-FEATURES §8 with an unmodified whatsmeow: a contact that
// cannot decrypt a message asks for a retry from the address the message
// came to, its LID in a LID-addressed chat; whatsmeow resends it from its
// recent messages to that one device, and the contact reads it once, in
// the chat's form. The same for a message to the phone number.
func TestRetryReceipt(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15552100")
	contact := sim.Contact("15552101")
	lid, pn := contact.LID(), types.NewJID("15552101", types.DefaultUserServer)
	for i, tc := range []struct {
		to    types.JID
		byLID bool
	}{{lid, true}, {pn, false}, {lid, true}} { // the third: a retry in a session already in use
		text := "retry me " + tc.to.String()
		contact.RefuseNext(1)
		resp, err := c.SendMessage(ctxTimeout(t), tc.to, &waE2E.Message{Conversation: proto.String(text)})
		if err != nil {
			t.Fatalf("send to %s: %v", tc.to, err)
		}
		select {
		case r := <-contact.Messages():
			if r.Text != text || r.ID != resp.ID || r.LID != tc.byLID {
				t.Errorf("the contact got %q (%s, by LID %v), want %q (%s, by LID %v)", r.Text, r.ID, r.LID, text, resp.ID, tc.byLID)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("send to %s: the contact received nothing after asking for a retry", tc.to)
		}
		if got := contact.RetriesAsked(); got != i+1 {
			t.Errorf("the contact asked for %d retries, want %d", got, i+1)
		}
	}
	select {
	case r := <-contact.Messages():
		t.Errorf("the contact got %q once more", r.Text)
	case <-time.After(300 * time.Millisecond):
	}
}
