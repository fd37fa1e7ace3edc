package whatsapp_test

import (
	"context"
	"slices"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/ports"
)

// SPEC §6a against the simulator: a contact addressed by LID shows up with
// its phone number and its LID beside it; sends to its number and to its
// LID both reach it; its receipts, in either form, name the phone number.

func TestInboundFromLIDShowsPhoneNumber(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	lid := contact.LID().String()
	if _, err := contact.SendFromLID(context.Background(), ownPhone, textMessage("from my lid")); err != nil {
		t.Fatalf("SendFromLID: %v", err)
	}
	in := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message
	e.waitReceipt(t, in.WAMessageID)
	if in.Text != "from my lid" || in.From != contactJID || in.Chat != contactJID || in.FromLID != lid || in.ChatLID != lid {
		t.Errorf("got %q from %s (lid %s) in %s (lid %s), want the text from %s in %s with lid %s",
			in.Text, in.From, in.FromLID, in.Chat, in.ChatLID, contactJID, contactJID, lid)
	}

	// A plain message afterwards names no LID.
	if err := contact.SendText(context.Background(), ownPhone, "from my number"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	in = e.events.next(t, "inst1", isKind(ports.WAMessage)).Message
	if in.Text != "from my number" || in.From != contactJID || in.FromLID != "" || in.ChatLID != "" {
		t.Errorf("got %q from %s (lid %q, chat lid %q), want it from %s without a LID", in.Text, in.From, in.FromLID, in.ChatLID, contactJID)
	}
}

func TestSendToLIDAndToNumber(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	lid := contact.LID().String()

	// Before the contact ever wrote, the LID's number is unknown: the
	// receipt names the LID, and the message id alone must find it.
	sendAndAck(t, e, contact, lid, true, lid)

	// Once the contact wrote from its LID (with its number beside it),
	// receipts in either form name the number.
	if _, err := contact.SendFromLID(context.Background(), ownPhone, textMessage("hello")); err != nil {
		t.Fatalf("SendFromLID: %v", err)
	}
	e.events.next(t, "inst1", isKind(ports.WAMessage))
	sendAndAck(t, e, contact, lid, true, contactJID)
	sendAndAck(t, e, contact, contactJID, false, contactJID)
	sendAndAck(t, e, contact, lid, true, contactJID)
}

// sendAndAck sends a text to `to`, checks the contact got it addressed by
// LID or not, makes it read the text in the same form and checks the
// receipt event names the chat wantChat, with the LID beside it if byLID.
func sendAndAck(t *testing.T, e *env, contact *wasim.Contact, to string, byLID bool, wantChat string) {
	t.Helper()
	sent, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: to, Text: "to " + to})
	if err != nil {
		t.Fatalf("Send to %s: %v", to, err)
	}
	r := received(t, contact)
	if r.Text != "to "+to || r.ID != sent.WAMessageID || r.LID != byLID {
		t.Errorf("got %q (id %s, by LID %v), want %q (id %s, by LID %v)", r.Text, r.ID, r.LID, "to "+to, sent.WAMessageID, byLID)
	}
	ack, wantLID := contact.SendReceipt, ""
	if byLID {
		ack, wantLID = contact.SendReceiptFromLID, contact.LID().String()
	}
	if err := ack(context.Background(), ownPhone, []string{sent.WAMessageID}, true); err != nil {
		t.Fatalf("receipt: %v", err)
	}
	rc := e.events.next(t, "inst1", isKind(ports.WAReceipt)).Receipt
	if rc.Type != ports.ReceiptRead || !slices.Equal(rc.WAMessageID, []string{sent.WAMessageID}) ||
		rc.Chat != wantChat || rc.From != wantChat || rc.ChatLID != wantLID {
		t.Errorf("got %s receipt for %v in %s (lid %q) from %s, want read for %s in %s (lid %q) from %s",
			rc.Type, rc.WAMessageID, rc.Chat, rc.ChatLID, rc.From, sent.WAMessageID, wantChat, wantLID, wantChat)
	}
}

func TestSendToUnknownLID(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	_, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: "999999999999999@lid", Text: "anyone?"})
	if ports.ErrorCodeOf(err) != ports.EInvalid {
		t.Errorf("got %v, want EInvalid: nobody has this LID", err)
	}
}

func textMessage(s string) *waE2E.Message { return &waE2E.Message{Conversation: proto.String(s)} }
