package whatsapp_test

import (
	"context"
	"testing"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/ports"
)

// TestReleaseHandsOverSilently releases a connected instance on one
// manager and logs it in on another sharing the database, as a lease moving
// between nodes does: the first reports nothing (the stored status stays
// for the next holder), the second connects with the stored device.
func TestReleaseHandsOverSilently(t *testing.T) {
	sim := wasim.New(wasim.Options{})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	db := entstore.Options{DataDir: t.TempDir()}
	a := newEnvOn(t, sim, db)
	ctx := context.Background()
	jid := a.link("inst1", ownPhone)
	before := len(a.events.all("inst1"))

	if err := a.m.Release(ctx, "inst1"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if a.m.Connected("inst1") {
		t.Error("got Connected true after Release, want false")
	}
	if err := a.m.Release(ctx, "inst1"); err != nil {
		t.Errorf("second Release: got %v, want nil", err)
	}
	if err := a.m.Release(ctx, "never-connected"); err != nil {
		t.Errorf("Release of an unknown instance: got %v, want nil", err)
	}

	b := newEnvOn(t, sim, db)
	if err := b.m.Connect(ctx, "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect on the next holder: %v", err)
	}
	ev := b.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if ev.Status.JID != jid {
		t.Errorf("next holder's JID: got %q, want %q", ev.Status.JID, jid)
	}
	if got := a.events.all("inst1")[before:]; len(got) != 0 {
		t.Errorf("events of the released connection: got %s, want none", a.events.dump("inst1"))
	}
}
