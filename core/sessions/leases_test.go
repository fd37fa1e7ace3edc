package sessions_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

// releaserWA adds the optional ports.WAReleaser.
type releaserWA struct{ *coretest.WhatsApp }

var _ ports.WAReleaser = releaserWA{}

func (f releaserWA) Release(_ context.Context, id ports.InstanceID) error {
	f.Log.Add("release " + string(id))
	return f.Failure()
}

func withReleaser(d *sessions.Deps, e *lifeEnv) { d.WhatsApp = releaserWA{e.wa} }

// holder is a fake sessions.Holder: Acquire answers err and records ids.
type holder struct {
	err      error
	acquired []ports.InstanceID
}

func (h *holder) Acquire(_ context.Context, id ports.InstanceID) error {
	h.acquired = append(h.acquired, id)
	return h.err
}

func withHolder(h *holder) lifeOpt {
	return func(d *sessions.Deps, _ *lifeEnv) { d.Leases = h }
}

func TestAdopt(t *testing.T) {
	e := newLifeEnv(t)
	const jid = "4915100000001:1@s.whatsapp.net"
	linked := e.instance(t, e.other, "linked", ports.StatusConnected, jid)
	pairing := e.instance(t, e.owner, "pairing", ports.StatusQR, "")
	stopped := e.instance(t, e.owner, "stopped", ports.StatusDisconnected, jid)
	ctx := t.Context()
	for _, id := range []ports.InstanceID{linked.ID, pairing.ID, stopped.ID} {
		if err := e.svc.Adopt(ctx, id); err != nil {
			t.Fatalf("adopt %s: %v", id, err)
		}
	}
	// Only the linked device logs in again; the stopped one stays so.
	wantStrings(t, "adapter calls", e.log.Take(), []string{fmt.Sprintf("connect %s jid=%s proxy=socks5://proxy:1080", linked.ID, jid)})
	// A pairing whose node went away cannot go on.
	if got := e.get(t, e.owner, pairing.ID); got.Status != ports.StatusDisconnected || got.StatusReason != "interrupted" {
		t.Errorf("adopted pairing: got %s/%s, want disconnected/interrupted", got.Status, got.StatusReason)
	}
	if got := e.get(t, e.owner, stopped.ID); got.Status != ports.StatusDisconnected {
		t.Errorf("adopted stopped instance: got %s, want disconnected", got.Status)
	}
	if err := e.svc.Adopt(ctx, "no-such-instance"); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("adopt a deleted instance: got %v, want not found", err)
	}
}

func TestDrop(t *testing.T) {
	e := newLifeEnv(t, withReleaser)
	inst := e.instance(t, e.owner, "held", ports.StatusConnected, "4915100000001:1@s.whatsapp.net")
	if err := e.svc.Drop(t.Context(), inst.ID); err != nil {
		t.Fatalf("drop: %v", err)
	}
	wantStrings(t, "adapter calls", e.log.Take(), []string{"release " + string(inst.ID)})
	// The stored status stays for the next holder, and nothing is announced.
	if got := e.get(t, e.owner, inst.ID); got.Status != ports.StatusConnected {
		t.Errorf("status after drop: got %s, want connected", got.Status)
	}
	if evs := e.bus.Take(); len(evs) != 0 {
		t.Errorf("events of a drop: got %d, want none", len(evs))
	}
	// An adapter that cannot hand over says so.
	plain := newLifeEnv(t)
	if err := plain.svc.Drop(t.Context(), inst.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Errorf("drop without a releaser: got %v, want unavailable", err)
	}
}

func TestConnectClaimsTheLease(t *testing.T) {
	h := &holder{}
	e := newLifeEnv(t, withHolder(h))
	inst := e.instance(t, e.owner, "new", ports.StatusCreated, "")
	if err := e.svc.Connect(t.Context(), e.owner, inst.ID); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if len(h.acquired) != 1 || h.acquired[0] != inst.ID {
		t.Errorf("leases acquired: got %v, want [%s]", h.acquired, inst.ID)
	}
	if calls := e.log.Take(); len(calls) != 1 {
		t.Errorf("adapter calls: got %q, want one connect", calls)
	}
}

func TestConnectHeldElsewhere(t *testing.T) {
	h := &holder{err: ports.Errorf(ports.EConflict, "held by another node")}
	e := newLifeEnv(t, withHolder(h))
	// Connected through its holder: connecting again is not an error, and
	// this node does not open a second connection.
	active := e.instance(t, e.owner, "active", ports.StatusConnected, "4915100000001:1@s.whatsapp.net")
	if err := e.svc.Connect(t.Context(), e.owner, active.ID); err != nil {
		t.Errorf("connect an instance held and connected elsewhere: got %v, want nil", err)
	}
	// Not active but still held (being let go): try again shortly.
	stopped := e.instance(t, e.owner, "stopped", ports.StatusDisconnected, "4915100000002:1@s.whatsapp.net")
	if err := e.svc.Connect(t.Context(), e.owner, stopped.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Errorf("connect an instance still held elsewhere: got %v, want unavailable", err)
	}
	if calls := e.log.Take(); len(calls) != 0 {
		t.Errorf("adapter calls: got %q, want none", calls)
	}
	// Another tenant's instance is not found before any lease is touched.
	h.acquired = nil
	if err := e.svc.Connect(t.Context(), e.other, active.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("connect another tenant's instance: got %v, want not found", err)
	}
	if len(h.acquired) != 0 {
		t.Errorf("leases acquired for another tenant's instance: got %v, want none", h.acquired)
	}
}
