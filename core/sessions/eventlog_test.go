package sessions_test

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestStatusAndEventCommitTogether: a status move and its instance.status
// event are one transaction: when the event cannot be appended, the move
// is not stored either (and the next report stores both).
func TestStatusAndEventCommitTogether(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "phone", ports.StatusConnected, "4915100000001:1@s.whatsapp.net")
	e.bus.Take()
	e.store.Hook = failing("AppendEvent")
	e.handle(status(inst.ID, ports.StatusDisconnected, "network"))
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusConnected {
		t.Errorf("status after a failed append: got %s, want connected (rolled back)", got)
	}
	if evs := e.bus.Take(); len(evs) != 0 {
		t.Errorf("events after a failed append: got %d, want 0", len(evs))
	}
	e.store.Hook = nil
	e.handle(status(inst.ID, ports.StatusDisconnected, "network"))
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusDisconnected {
		t.Errorf("status: got %s, want disconnected", got)
	}
	wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID), []string{"connected>disconnected/network"})
}

// TestNoEventWithoutChange: a QR code whose status move fails appends no
// instance.qr event either.
func TestNoEventWithoutChange(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "phone", ports.StatusConnecting, "")
	e.bus.Take()
	e.store.Hook = failing("UpdateInstance")
	e.handle(qrEvent(inst.ID, "2@code", 1, e.clock.Now()))
	if evs := e.bus.Take(); len(evs) != 0 {
		t.Errorf("events after a failed status move: got %d (%v), want 0", len(evs), evs)
	}
}

// failing is a store hook that fails every call of method, as a database
// that went away would.
func failing(method string) func(string) error {
	return func(m string) error {
		if m == method {
			return ports.Errorf(ports.EUnavailable, "database restarting")
		}
		return nil
	}
}
