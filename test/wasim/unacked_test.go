package wasim_test

import (
	"testing"

	"go.mau.fi/whatsmeow/types/events"
)

// TestUnackedMessageResentOnReconnect: a client that read a message but
// went away before its handler returned (so before its ack) gets that
// message again at its next login, as from WhatsApp's servers; a message
// it acknowledged is not sent again.
func TestUnackedMessageResentOnReconnect(t *testing.T) {
	sim := newSim(t, wasimOptions())
	container := newContainer(t)
	c := pairQR(t, sim, container, "15550700")
	blocking, entered, release := make(chan struct{}), make(chan string, 1), make(chan struct{})
	c.AddEventHandler(func(evt any) {
		msg, ok := evt.(*events.Message)
		if !ok {
			return
		}
		select {
		case <-blocking:
			entered <- msg.Message.GetConversation()
			<-release // the handler has not returned: whatsmeow holds the ack
		default:
		}
	})
	carol := sim.Contact("15550701")
	if err := carol.SendText(ctxTimeout(t), "+15550700", "handled"); err != nil {
		t.Fatalf("contact send: %v", err)
	}
	first := waitEvent[*events.Message](t, c)
	if err := sim.WaitReceipt(ctxTimeout(t), first.Info.ID); err != nil {
		t.Fatalf("the first message's receipt: %v", err)
	}
	close(blocking)
	if err := carol.SendText(ctxTimeout(t), "+15550700", "interrupted"); err != nil {
		t.Fatalf("contact send: %v", err)
	}
	select {
	case got := <-entered:
		if got != "interrupted" {
			t.Fatalf("the blocked handler got %q, want %q", got, "interrupted")
		}
	case <-ctxTimeout(t).Done():
		t.Fatal("the handler never saw the second message")
	}
	// The client goes away before the handler returns, as if killed: no
	// ack was sent, and whatsmeow still holds the decrypted message in its
	// buffer (a handler that returned would have cleared it). The handler
	// is released once the test is over.
	c.Disconnect()
	t.Cleanup(func() { close(release) })

	dev, err := container.GetDevice(t.Context(), *c.Store.ID)
	if err != nil || dev == nil {
		t.Fatalf("got stored device %v (err %v), want it", dev, err)
	}
	c2 := newClient(t, sim, dev)
	if err := c2.Connect(); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	// The resent message comes first: an acknowledged one would have been
	// resent before it. The barrier then shows nothing else follows.
	msg := waitEvent[*events.Message](t, c2)
	if got := msg.Message.GetConversation(); got != "interrupted" {
		t.Fatalf("after the reconnect: got %q, want the unacknowledged %q", got, "interrupted")
	}
	if err := sim.Barrier(c2.Store.ID.String()); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	for {
		switch e := waitEvent[any](t, c2).(type) {
		case *events.Message:
			t.Errorf("after the resend: got message %q, want no other", e.Message.GetConversation())
		case *events.OfflineSyncCompleted:
			if e.Count == 0 {
				return
			}
		}
	}
}
