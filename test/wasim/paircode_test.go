package wasim_test

import (
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"
)

func TestPairCode(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := newClient(t, sim, newContainer(t).NewDevice())
	if err := c.Connect(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	waitEvent[*events.QR](t, c) // PairPhone needs the registration connection up
	code, err := c.PairPhone(ctxTimeout(t), "+1 555 0800", true, whatsmeow.PairClientChrome, "Chrome (Linux)")
	if err != nil {
		t.Fatalf("pair phone: %v", err)
	}
	if err := sim.EnterPairCode(ctxTimeout(t), "15550800", code); err != nil {
		t.Fatalf("enter code %s: %v", code, err)
	}
	waitEvent[*events.PairSuccess](t, c)
	waitEvent[*events.Connected](t, c)
	if got, want := c.Store.ID.String(), jidOf("15550800", 1); got != want {
		t.Fatalf("got device %s, want %s", got, want)
	}
}
