package storetest

import (
	"context"
	"testing"

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
