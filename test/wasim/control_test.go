package wasim_test

import (
	"context"
	"testing"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/adapters/wasim"
)

func TestRemoteControl(t *testing.T) {
	sim := newSim(t, wasimOptions())
	remote := wasim.NewRemote(sim.Addr())
	var ctl wasim.Controller = remote

	c := newClient(t, sim, newContainer(t).NewDevice())
	if err := c.Connect(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	qr := waitEvent[*events.QR](t, c)
	if err := ctl.ScanQR(ctxTimeout(t), qr.Codes[0], "15551000"); err != nil {
		t.Fatalf("remote scan: %v", err)
	}
	waitEvent[*events.Connected](t, c)

	if err := ctl.ContactSendText(ctxTimeout(t), "15551001", "15551000", "over the wire"); err != nil {
		t.Fatalf("remote send: %v", err)
	}
	if got := waitEvent[*events.Message](t, c).Message.GetConversation(); got != "over the wire" {
		t.Fatalf("got %q, want %q", got, "over the wire")
	}
	if err := ctl.ScanQR(ctxTimeout(t), "not,a,qr", "15551000"); err == nil {
		t.Fatalf("got nil error for a bad QR, want one")
	}
	if err := ctl.Unlink(ctxTimeout(t), c.Store.ID.String()); err != nil {
		t.Fatalf("remote unlink: %v", err)
	}
	waitEvent[*events.LoggedOut](t, c)
}

func TestServeStandalone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- wasim.Serve(ctx, "127.0.0.1:0", nil) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("got Serve error %v, want nil after cancel", err)
		}
	case <-ctxTimeout(t).Done():
		t.Fatalf("Serve did not return after cancel")
	}
}
