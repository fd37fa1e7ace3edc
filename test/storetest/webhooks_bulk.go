package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// testDeliveryCreateMany: the dispatcher's multi-row insert stores every
// row under the caller's subscription, across the adapter's statement
// size, and refuses an existing id or a second delivery of an event to
// an endpoint; in a transaction, the refusal undoes the whole batch.
func testDeliveryCreateMany(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	w := f.webhook(f.instance(sub.ID, "one"), base)
	const n = 1100 // more than one statement's worth in every adapter
	rows := make([]ports.WebhookDelivery, n)
	for i := range rows {
		rows[i] = f.pending(w, other.ID) // the argument's subscription wins
	}
	mustOK(t, "create none", f.s.Deliveries.CreateDeliveries(f.ctx, sub.ID, nil))
	mustOK(t, "create many", f.s.Deliveries.CreateDeliveries(f.ctx, sub.ID, rows))
	for _, i := range []int{0, 499, 500, n - 1} {
		got, err := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, rows[i].ID)
		if err != nil || got.EventID != rows[i].EventID || got.SubscriptionID != sub.ID || got.Status != ports.DeliveryPending {
			t.Errorf("row %d: got %+v, %v; want it stored under %s", i, got, err, sub.ID)
		}
		wantCode(t, "get another tenant's", errOnly(f.s.Deliveries.GetDelivery(f.ctx, other.ID, rows[i].ID)), ports.ENotFound)
	}
	due, err := f.s.Deliveries.DueDeliveries(f.ctx, sub.ID, w.ID, base, 100)
	if err != nil || len(due) != 100 || due[0].ID != rows[0].ID {
		t.Errorf("due after the insert: got %d rows (%v), want 100 starting with the first", len(due), err)
	}

	fresh := f.pending(w, sub.ID)
	wantCode(t, "an existing id", f.s.Deliveries.CreateDeliveries(f.ctx, sub.ID, []ports.WebhookDelivery{rows[3]}), ports.EConflict)
	again := f.pending(w, sub.ID)
	again.EventID = rows[4].EventID
	err = f.b.InTx(f.ctx, func(ctx context.Context, st ports.Stores) error {
		return st.Deliveries.CreateDeliveries(ctx, sub.ID, []ports.WebhookDelivery{fresh, again})
	})
	wantCode(t, "an event's second delivery to the endpoint", err, ports.EConflict)
	wantCode(t, "a row of the undone batch", errOnly(f.s.Deliveries.GetDelivery(f.ctx, sub.ID, fresh.ID)), ports.ENotFound)
}

// pending is a new pending delivery to w of an event of its own, due at
// base, not stored.
func (f *fixture) pending(w ports.WebhookEndpoint, sub ports.SubscriptionID) ports.WebhookDelivery {
	due := base
	return ports.WebhookDelivery{
		ID: ports.DeliveryID(newID()), SubscriptionID: sub, InstanceID: w.InstanceID, EndpointID: w.ID,
		EventID: "evt_" + newID(), EventType: ports.EventMessageReceived, Payload: []byte(`{"id":"evt"}`),
		Status: ports.DeliveryPending, NextAttemptAt: &due, CreatedAt: base, UpdatedAt: base,
	}
}

// testDeliveryClaimMany: a batch claim takes exactly the listed rows that
// one claim each would take (this tenant's, of the endpoint, pending with
// the attempt count, the endpoint enabled and unchanged), says which, and
// of racing batch claims each row goes to one.
func testDeliveryClaimMany(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	created, neighbour := f.webhook(inst, base), f.webhook(inst, base)
	w, err := f.s.Webhooks.GetWebhook(f.ctx, sub.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := f.delivery(w, base), f.delivery(w, base), f.delivery(w, base)
	elsewhere := f.delivery(neighbour, base)
	at := base.Add(time.Minute)
	claim := ports.DeliveryClaim{Endpoint: w.ID, EndpointVersion: w.UpdatedAt, At: at, LeaseEnd: at.Add(30 * time.Second)}
	if ok, err := f.s.Deliveries.ClaimDelivery(f.ctx, sub.ID, ports.DeliveryClaim{ID: b.ID, Endpoint: w.ID, EndpointVersion: w.UpdatedAt, At: at, LeaseEnd: at}); !ok || err != nil {
		t.Fatalf("claim b alone: got %v, %v", ok, err)
	}
	stale := claim
	stale.EndpointVersion = base.Add(-time.Second)
	for _, r := range []struct {
		name string
		sub  ports.SubscriptionID
		c    ports.DeliveryClaim
	}{{"another tenant's", other.ID, claim}, {"an endpoint changed since", sub.ID, stale}} {
		got, err := f.s.Deliveries.ClaimDeliveries(f.ctx, r.sub, r.c, []ports.DeliveryID{a.ID, c.ID})
		if err != nil || len(got) != 0 {
			t.Errorf("claim %s: got %v, %v; want none", r.name, got, err)
		}
	}
	missing := ports.DeliveryID(newID())
	got, err := f.s.Deliveries.ClaimDeliveries(f.ctx, sub.ID, claim, []ports.DeliveryID{a.ID, b.ID, c.ID, elsewhere.ID, missing})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []ports.DeliveryID{a.ID, c.ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("claim: got %v, want %v (not b, counted already; not another endpoint's or a missing row)", got, want)
	}
	for _, d := range []ports.WebhookDelivery{a, c} {
		row, err := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
		if err != nil || row.Attempts != 1 || !row.UpdatedAt.Equal(kept(at)) || row.NextAttemptAt == nil || !row.NextAttemptAt.Equal(kept(claim.LeaseEnd)) {
			t.Errorf("claimed: got %+v, %v; want 1 attempt, leased until %s", row, err, claim.LeaseEnd)
		}
	}
	if row, _ := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, elsewhere.ID); row.Attempts != 0 {
		t.Errorf("another endpoint's row: got %d attempts, want 0", row.Attempts)
	}
	testDeliveryClaimManyRace(t, f, w)
}

// testDeliveryClaimManyRace: batch claims racing on the same rows give
// each row to one of them.
func testDeliveryClaimManyRace(t *testing.T, f *fixture, w ports.WebhookEndpoint) {
	var ids []ports.DeliveryID
	for range 10 {
		ids = append(ids, f.delivery(w, base).ID)
	}
	claim := ports.DeliveryClaim{Endpoint: w.ID, EndpointVersion: w.UpdatedAt, At: base, LeaseEnd: base.Add(time.Minute)}
	var mu sync.Mutex
	won := map[ports.DeliveryID]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := f.s.Deliveries.ClaimDeliveries(f.ctx, w.SubscriptionID, claim, ids)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			for _, id := range got {
				won[id]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if won[id] != 1 {
			t.Errorf("row %s claimed %d times, want once", id, won[id])
		}
	}
}
