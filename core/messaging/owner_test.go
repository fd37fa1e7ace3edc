package messaging_test

import (
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// withOwner rebuilds e's service with an Owner, on the same store.
func withOwner(e *env) *coretest.Owner {
	o := &coretest.Owner{}
	e.svc = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: &coretest.IDs{}, Queue: e.queue, WhatsApp: e.wa, Events: coretest.NewEventLog(e.clock, nil), Owner: o,
	}, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second})
	return o
}

func TestSendOnlyByTheOwner(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	o := withOwner(e)
	m := e.send(t, "+15550001111")
	q, _ := e.queue.Job(string(m.ID))
	err := e.run(t, m.ID)
	pe := ports.AsError(err)
	if pe == nil || pe.Code != ports.ERateLimited || pe.RetryAfter <= 0 {
		t.Fatalf("send on a node that does not own the instance: got %v, want rate_limited with a RetryAfter", err)
	}
	if got := e.get(t, m.ID).Status; got != ports.MsgQueued {
		t.Errorf("status after the refused run: got %s, want queued", got)
	}
	if len(e.wa.Sent) != 0 {
		t.Errorf("sends by a non-owner: got %d, want 0", len(e.wa.Sent))
	}
	// The retry lands on the owner (here: the node got the lease).
	o.Set(e.inst.ID, true)
	if err := e.svc.HandleSend(t.Context(), ports.Delivery{Job: q, Attempt: 2}); err != nil {
		t.Fatalf("send by the owner: %v", err)
	}
	if got := e.get(t, m.ID).Status; got != ports.MsgSent {
		t.Errorf("status after the owner's run: got %s, want sent", got)
	}
	if len(e.wa.Sent) != 1 {
		t.Errorf("sends: got %d, want 1", len(e.wa.Sent))
	}
}

func TestSendOfAnInstanceNobodyHoldsTakesTheUsualPath(t *testing.T) {
	// Disconnected: no node will claim it, so waiting for an owner would
	// wait forever; the usual not-connected handling applies.
	e := newEnv(t, ports.StatusDisconnected)
	withOwner(e)
	e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) {
		return ports.WASent{}, ports.ReasonError(ports.EConflict, "instance_not_connected", "not connected")
	}
	m := e.send(t, "+15550001111")
	err := e.run(t, m.ID)
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EUnavailable {
		t.Fatalf("send of an unheld disconnected instance: got %v, want unavailable (retry with backoff)", err)
	}
}
