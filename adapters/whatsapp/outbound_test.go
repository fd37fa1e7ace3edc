package whatsapp_test

import (
	"context"
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestSendUnderGivenID: the id chosen before the send is the one on the
// wire, and a resend under it reaches the contact's phone only once.
func TestSendUnderGivenID(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	const id = "3EB0C0FFEE0123456789AB"
	for range 2 {
		sent, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{ID: id, To: contactJID, Text: "once"})
		if err != nil || sent.WAMessageID != id {
			t.Fatalf("Send: got id %q, %v; want %q", sent.WAMessageID, err, id)
		}
	}
	sent, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: "next"})
	if err != nil || sent.WAMessageID == "" || sent.WAMessageID == id {
		t.Fatalf("Send without an id: got %q, %v; want a new id", sent.WAMessageID, err)
	}
	if r := received(t, contact); r.ID != id || r.Text != "once" {
		t.Errorf("got %q under %q, want %q under %q", r.Text, r.ID, "once", id)
	}
	if r := received(t, contact); r.ID != sent.WAMessageID || r.Text != "next" {
		t.Errorf("got %q under %q, want %q under %q (the resend dropped)", r.Text, r.ID, "next", sent.WAMessageID)
	}
	if n := contact.Duplicates(); n != 1 {
		t.Errorf("got %d duplicates at the contact, want 1", n)
	}
}
