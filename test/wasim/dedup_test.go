package wasim_test

import (
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// TestContactDropsRepeatedMessageID: like a phone, a contact keeps one
// message per (sender, id). A resend under the same id is counted, not
// delivered again; the same id from another sender is another message.
func TestContactDropsRepeatedMessageID(t *testing.T) {
	sim := newSim(t, wasimOptions())
	alice := pairQR(t, sim, newContainer(t), "15550900")
	carol := pairQR(t, sim, newContainer(t), "15550902")
	bob := sim.Contact("15550901")
	to := types.NewJID("15550901", types.DefaultUserServer)
	send := func(c *client, id, text string) {
		t.Helper()
		resp, err := c.SendMessage(ctxTimeout(t), to, &waE2E.Message{Conversation: proto.String(text)}, whatsmeow.SendRequestExtra{ID: types.MessageID(id)})
		if err != nil || resp.ID != id {
			t.Fatalf("send %q: got id %q, %v; want %q", text, resp.ID, err, id)
		}
	}
	send(alice, "3EB0DEDUP0000000000001", "first")
	send(alice, "3EB0DEDUP0000000000001", "first, resent")
	send(alice, "3EB0DEDUP0000000000002", "second")
	send(carol, "3EB0DEDUP0000000000001", "carol's")
	// The contact reads in arrival order: once "second" is out, the resend
	// before it has been dropped.
	for _, want := range []string{"first", "second", "carol's"} {
		if got := recv(t, bob); got.Text != want {
			t.Fatalf("got %q (id %s from %s), want %q", got.Text, got.ID, got.From, want)
		}
	}
	if n := bob.Duplicates(); n != 1 {
		t.Errorf("got %d duplicates, want 1", n)
	}
	select {
	case r := <-bob.Messages():
		t.Errorf("got another message %q, want none", r.Text)
	default:
	}
}
