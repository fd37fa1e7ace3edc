package wasim_test

import (
	"testing"

	"go.mau.fi/whatsmeow/types/events"
)

func TestDropConnectionReconnects(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550900")
	sim.DropConnection(c.Store.ID.String())
	waitEvent[*events.Disconnected](t, c)
	waitEvent[*events.Connected](t, c)
}

func TestStoppedPingsTimeOutThenRestore(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550901")
	sim.StopPings(c.Store.ID.String(), true)
	waitEvent[*events.KeepAliveTimeout](t, c)
	sim.StopPings(c.Store.ID.String(), false)
	waitEvent[*events.KeepAliveRestored](t, c)
}

func TestReplaceStream(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550902")
	sim.ReplaceStream(c.Store.ID.String())
	waitEvent[*events.StreamReplaced](t, c)
}

func TestUnlinkLogsOut(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550903")
	if err := sim.Unlink(ctxTimeout(t), c.Store.ID.String()); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	lo := waitEvent[*events.LoggedOut](t, c)
	if lo.OnConnect {
		t.Fatalf("got LoggedOut.OnConnect = true, want false (removed while connected)")
	}
}
