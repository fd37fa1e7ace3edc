package wasim_test

import (
	"testing"

	"go.mau.fi/whatsmeow/types/events"
)

func TestQRPairingThenStoredLogin(t *testing.T) {
	sim := newSim(t, wasimOptions())
	container := newContainer(t)
	c := pairQR(t, sim, container, "15550100")
	if got, want := c.Store.ID.String(), jidOf("15550100", 1); got != want {
		t.Fatalf("got device %s, want %s", got, want)
	}
	c.stop(t)

	dev, err := container.GetDevice(t.Context(), *c.Store.ID)
	if err != nil || dev == nil {
		t.Fatalf("got stored device %v (err %v), want the paired one", dev, err)
	}
	again := newClient(t, sim, dev)
	if err := again.Connect(); err != nil {
		t.Fatalf("connect with stored credentials: %v", err)
	}
	waitEvent[*events.Connected](t, again)
	if !again.IsLoggedIn() {
		t.Fatalf("got logged in = false, want true")
	}
}

func TestUnknownNoiseKeyIsLoggedOut(t *testing.T) {
	sim := newSim(t, wasimOptions())
	other := newSim(t, wasimOptions())
	container := newContainer(t)
	c := pairQR(t, sim, container, "15550101")
	c.stop(t)

	dev, err := container.GetDevice(t.Context(), *c.Store.ID)
	if err != nil || dev == nil {
		t.Fatalf("got stored device %v (err %v), want the paired one", dev, err)
	}
	stranger := newClient(t, other, dev) // a network that never linked this device
	if err := stranger.Connect(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	lo := waitEvent[*events.LoggedOut](t, stranger)
	if !lo.OnConnect {
		t.Fatalf("got LoggedOut.OnConnect = false, want true")
	}
}
