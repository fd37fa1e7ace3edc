package wasim_test

import (
	"context"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/wasim"
)

func TestIsOnWhatsApp(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550200")
	res, err := c.IsOnWhatsApp(ctxTimeout(t), []string{"+15550201", "+9995550202"})
	if err != nil {
		t.Fatalf("IsOnWhatsApp: %v", err)
	}
	got := map[string]bool{}
	for _, r := range res {
		got[r.Query] = r.IsIn
	}
	want := map[string]bool{"+15550201": true, "+9995550202": false}
	for q, in := range want {
		if v, ok := got[q]; !ok || v != in {
			t.Errorf("got %s on WhatsApp = %v (present %v), want %v", q, v, ok, in)
		}
	}
}

func recv(t *testing.T, ct *wasim.Contact) wasim.Received {
	t.Helper()
	select {
	case r := <-ct.Messages():
		return r
	case <-ctxTimeout(t).Done():
		t.Fatalf("got no message for contact %s within %s, want one", ct.Phone(), waitTimeout)
		return wasim.Received{}
	}
}

func TestSendTextContactDecrypts(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550300")
	bob := sim.Contact("15550301")
	for _, text := range []string{"hello bob", "second message"} {
		resp, err := c.SendMessage(ctxTimeout(t), types.NewJID("15550301", types.DefaultUserServer),
			&waE2E.Message{Conversation: proto.String(text)})
		if err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
		got := recv(t, bob)
		if got.Text != text || got.ID != resp.ID {
			t.Fatalf("got text %q id %s, want %q id %s", got.Text, got.ID, text, resp.ID)
		}
		if want := jidOf("15550300", 1); got.From != want {
			t.Fatalf("got from %s, want %s", got.From, want)
		}
	}
}

func TestContactTextArrivesAsEvent(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550400")
	for _, text := range []string{"hi from carol", "and again"} {
		if err := sim.Contact("15550401").SendText(ctxTimeout(t), "+15550400", text); err != nil {
			t.Fatalf("contact send: %v", err)
		}
		msg := waitEvent[*events.Message](t, c)
		if got := msg.Message.GetConversation(); got != text {
			t.Fatalf("got text %q, want %q", got, text)
		}
		if got, want := msg.Info.Sender.User, "15550401"; got != want {
			t.Fatalf("got sender %s, want %s", got, want)
		}
	}
}

func TestReceiptsReachSender(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550500")
	dave := sim.Contact("15550501")
	resp, err := c.SendMessage(ctxTimeout(t), types.NewJID("15550501", types.DefaultUserServer),
		&waE2E.Message{Conversation: proto.String("did you get this?")})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	recv(t, dave)
	for _, read := range []bool{false, true} {
		if err := dave.SendReceipt(ctxTimeout(t), "15550500", []string{resp.ID}, read); err != nil {
			t.Fatalf("receipt: %v", err)
		}
		r := waitEvent[*events.Receipt](t, c)
		want := types.ReceiptTypeDelivered
		if read {
			want = types.ReceiptTypeRead
		}
		if r.Type != want || len(r.MessageIDs) != 1 || r.MessageIDs[0] != resp.ID {
			t.Fatalf("got receipt %q for %v, want %q for %s", r.Type, r.MessageIDs, want, resp.ID)
		}
	}
}

func TestAutoReceipts(t *testing.T) {
	sim := newSim(t, wasim.Options{ReceiptDelay: 50 * time.Millisecond})
	c := pairQR(t, sim, newContainer(t), "15550550")
	resp, err := c.SendMessage(ctxTimeout(t), types.NewJID("15550551", types.DefaultUserServer),
		&waE2E.Message{Conversation: proto.String("auto")})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	for _, want := range []types.ReceiptType{types.ReceiptTypeDelivered, types.ReceiptTypeRead} {
		r := waitEvent[*events.Receipt](t, c)
		if r.Type != want || r.MessageIDs[0] != resp.ID {
			t.Fatalf("got receipt %q for %v, want %q for %s", r.Type, r.MessageIDs, want, resp.ID)
		}
	}
}

func TestTwoClientsWithReceiptsAndOfflineQueue(t *testing.T) {
	sim := newSim(t, wasimOptions())
	alice := pairQR(t, sim, newContainer(t), "15550600")
	bobContainer := newContainer(t)
	bob := pairQR(t, sim, bobContainer, "15550601")
	bobJID := types.NewJID("15550601", types.DefaultUserServer)
	aliceJID := types.NewJID("15550600", types.DefaultUserServer)

	resp, err := alice.SendMessage(ctxTimeout(t), bobJID, &waE2E.Message{Conversation: proto.String("hi bob")})
	if err != nil {
		t.Fatalf("alice send: %v", err)
	}
	msg := waitEvent[*events.Message](t, bob)
	if got := msg.Message.GetConversation(); got != "hi bob" || msg.Info.ID != resp.ID {
		t.Fatalf("got %q id %s, want %q id %s", got, msg.Info.ID, "hi bob", resp.ID)
	}
	// bob's automatic delivery receipt reaches alice; then a read receipt.
	waitEvent[*events.Receipt](t, alice)
	if err := bob.MarkRead(ctxTimeout(t), []types.MessageID{resp.ID}, time.Now(), aliceJID, aliceJID); err != nil {
		t.Fatalf("mark read: %v", err)
	}
	waitReceipt(t, alice, types.ReceiptTypeRead, resp.ID)

	// Offline queueing: bob disconnects, alice sends, bob logs in again.
	bob.stop(t)
	resp, err = alice.SendMessage(ctxTimeout(t), bobJID, &waE2E.Message{Conversation: proto.String("while you were away")})
	if err != nil {
		t.Fatalf("alice send offline: %v", err)
	}
	dev, err := bobContainer.GetDevice(t.Context(), *bob.Store.ID)
	if err != nil || dev == nil {
		t.Fatalf("got stored device %v (err %v), want bob's", dev, err)
	}
	bob2 := newClient(t, sim, dev)
	if err := bob2.Connect(); err != nil {
		t.Fatalf("bob reconnect: %v", err)
	}
	msg = waitEvent[*events.Message](t, bob2)
	if got := msg.Message.GetConversation(); got != "while you were away" || msg.Info.ID != resp.ID {
		t.Fatalf("got %q id %s, want the queued message %s", got, msg.Info.ID, resp.ID)
	}
}

// waitReceipt skips receipts until one of the wanted type for id arrives.
func waitReceipt(t *testing.T, c *client, typ types.ReceiptType, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for ctx.Err() == nil {
		r := waitEvent[*events.Receipt](t, c)
		if r.Type == typ && len(r.MessageIDs) > 0 && r.MessageIDs[0] == id {
			return
		}
	}
	t.Fatalf("got no %q receipt for %s, want one", typ, id)
}
