package sessions_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

func withOwner(o *coretest.Owner) lifeOpt {
	return func(d *sessions.Deps, _ *lifeEnv) { d.Owner = o }
}

// A connection this node let go of may still report: its events are the
// new holder's to handle, so they are dropped here.
func TestEventsOnlyOfHeldInstances(t *testing.T) {
	o := &coretest.Owner{}
	e := newLifeEnv(t, withOwner(o))
	inst := e.instance(t, e.owner, "phone", ports.StatusConnected, "4915100000001:1@s.whatsapp.net")
	e.handle(status(inst.ID, ports.StatusDisconnected, "network"))
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusConnected {
		t.Errorf("status after an event of an instance held elsewhere: got %s, want connected", got)
	}
	o.Set(inst.ID, true)
	e.handle(status(inst.ID, ports.StatusDisconnected, "network"))
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusDisconnected {
		t.Errorf("status after an event of a held instance: got %s, want disconnected", got)
	}
}

// The module's own event for an adopted pairing is not the adapter's
// late report: it is handled whatever Owns says.
func TestAdoptedPairingInterruptedWithOwner(t *testing.T) {
	e := newLifeEnv(t, withOwner(&coretest.Owner{}))
	pairing := e.instance(t, e.owner, "pairing", ports.StatusQR, "")
	if err := e.svc.Adopt(t.Context(), pairing.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, e.owner, pairing.ID); got.Status != ports.StatusDisconnected || got.StatusReason != "interrupted" {
		t.Errorf("adopted pairing: got %s/%s, want disconnected/interrupted", got.Status, got.StatusReason)
	}
}
