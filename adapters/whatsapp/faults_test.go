package whatsapp_test

import (
	"context"
	"testing"

	"github.com/wagate/wagate/ports"
)

func TestNetworkDropReconnects(t *testing.T) {
	e := newEnv(t)
	jid := e.link("inst1", ownPhone)
	e.sim.DropConnection(jid)
	e.events.next(t, "inst1", isStatus(ports.StatusConnecting, "network"))
	ev := e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if ev.Status.JID != jid {
		t.Errorf("got JID %q after the reconnect, want %q", ev.Status.JID, jid)
	}
}

func TestKeepaliveFailureWatchdogReconnects(t *testing.T) {
	e := newEnv(t)
	jid := e.link("inst1", ownPhone)
	e.sim.StopPings(jid, true)
	ev := e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if !ev.Status.Degraded {
		t.Fatalf("got %s, want connected and degraded", describe(ev))
	}
	// The connection stays silent until the watchdog replaces it; the new
	// one gets answers again.
	e.events.next(t, "inst1", isStatus(ports.StatusConnecting, "keepalive_timeout"))
	e.sim.StopPings(jid, false)
	ev = e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if ev.Status.Degraded {
		t.Errorf("got %s after the watchdog reconnect, want not degraded", describe(ev))
	}
}

func TestStreamReplaced(t *testing.T) {
	e := newEnv(t)
	jid := e.link("inst1", ownPhone)
	e.sim.ReplaceStream(jid)
	e.events.next(t, "inst1", isStatus(ports.StatusDisconnected, "replaced"))
	if e.m.Connected("inst1") {
		t.Error("got Connected true after the stream was replaced, want false")
	}
}

func TestUnlinkedOnPhoneIsLoggedOut(t *testing.T) {
	e := newEnv(t)
	jid := e.link("inst1", ownPhone)
	if err := e.sim.Unlink(context.Background(), jid); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "unlinked"))
	// The credentials are gone: connecting with the JID says so again.
	e.restart()
	if err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "unlinked"))
}

func TestDisconnectThenReconnectWithoutQR(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	jid := e.link("inst1", ownPhone)
	if err := e.m.Disconnect(ctx, "inst1"); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusDisconnected, "manual"))
	if e.m.Connected("inst1") {
		t.Error("got Connected true after Disconnect, want false")
	}
	if err := e.m.Disconnect(ctx, "inst1"); err != nil {
		t.Errorf("second Disconnect: got %v, want nil", err)
	}
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	ev := e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if ev.Status.JID != jid {
		t.Errorf("got JID %q, want %q", ev.Status.JID, jid)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	jid := e.link("inst1", ownPhone)
	if err := e.m.Logout(ctx, "inst1"); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "manual"))
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "unlinked"))
}

func TestLogoutWhileDisconnectedDeletesCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	jid := e.link("inst1", ownPhone)
	if err := e.m.Disconnect(ctx, "inst1"); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if err := e.m.Logout(ctx, "inst1"); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "manual"))
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "unlinked"))
}

func TestRemoveDeviceAfterRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	jid := e.link("inst1", ownPhone)
	e.restart() // the new manager has no client for inst1
	if err := e.m.RemoveDevice(ctx, "inst1", jid); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	if err := e.m.RemoveDevice(ctx, "inst1", jid); err != nil {
		t.Errorf("second RemoveDevice: got %v, want nil", err)
	}
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "unlinked"))
}

func TestInstancesAreIndependent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.link("inst1", ownPhone)
	e.link("inst2", "15550300000")
	if err := e.m.Disconnect(ctx, "inst1"); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusDisconnected, "manual"))
	if !e.m.Connected("inst2") {
		t.Fatal("got inst2 disconnected with inst1, want it connected")
	}
	if _, err := e.m.Send(ctx, "inst2", ports.WAOutbound{To: contactJID, Text: "still here"}); err != nil {
		t.Fatalf("Send from inst2: %v", err)
	}
	if r := received(t, e.sim.Contact(contactPhone)); r.Text != "still here" {
		t.Errorf("got %q, want %q", r.Text, "still here")
	}
	for _, ev := range e.events.all("inst2") {
		if ev.Kind == ports.WAStatus && ev.Status.Status != ports.StatusConnected && ev.Status.Reason == "manual" {
			t.Errorf("got %s on inst2, want none of inst1's statuses", describe(ev))
		}
	}
}
