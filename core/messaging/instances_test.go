package messaging_test

import (
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The accept path keeps the instance it checked for up to a second: a
// status move on another node shows within that second, one on this node
// (ForgetInstance, which sessions calls) at once, and another tenant never
// gets the cached instance.
func TestAcceptCachesTheInstanceCheck(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.svc = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: e.ids, Queue: e.queue, WhatsApp: e.wa, Events: coretest.NewEventLog(e.clock, nil),
	}, messaging.Config{MaxAge: time.Hour, InstanceCacheTTL: time.Minute}) // capped at 1 s
	text := messaging.SendTextCmd{To: "+15550001111", Text: "hello"}
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, text); err != nil {
		t.Fatal(err)
	}
	logout := func() {
		t.Helper()
		_, err := e.store.Stores().Instances.UpdateInstance(t.Context(), e.p.SubscriptionID, e.inst.ID, func(i *ports.Instance) error {
			i.Status = ports.StatusLoggedOut
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	logout() // straight in the store: as another node would
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, text); err != nil {
		t.Errorf("within the second: got %v, want accepted from the cache", err)
	}
	other := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "other@example.com")
	if _, err := e.svc.SendText(t.Context(), other, e.inst.ID, text); !ports.IsCode(err, ports.ENotFound) && !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("another tenant, instance cached: got %v, want not found", err)
	}
	e.clock.Advance(1100 * time.Millisecond)
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, text); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("after the second: got %v, want instance_not_connected", err)
	}

	// On this node a move drops the entry at once.
	_, err := e.store.Stores().Instances.UpdateInstance(t.Context(), e.p.SubscriptionID, e.inst.ID, func(i *ports.Instance) error {
		i.Status = ports.StatusConnected
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetInstance(e.inst.ID)
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, text); err != nil {
		t.Fatalf("reconnected, forgotten: %v", err)
	}
	logout()
	e.svc.ForgetInstance(e.inst.ID)
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, text); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("logged out on this node: got %v, want instance_not_connected at once", err)
	}
	if err := e.store.Stores().Instances.DeleteInstance(t.Context(), e.p.SubscriptionID, e.inst.ID); err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetInstance(e.inst.ID)
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, text); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("deleted on this node: got %v, want not found at once", err)
	}
}
