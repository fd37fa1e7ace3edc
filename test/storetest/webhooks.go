package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// WebhookBackend is a Backend that also offers the system-level view of
// the delivery backlog.
type WebhookBackend interface {
	Backend
	DeliveryOutbox() ports.DeliveryOutbox
}

// RunWebhooks runs the conformance tests of ports.WebhookStore,
// ports.DeliveryStore and ports.DeliveryOutbox. open is called once per
// test and must return an empty, migrated backend of its own, closed when
// t ends.
func RunWebhooks(t *testing.T, open func(t *testing.T) WebhookBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, out ports.DeliveryOutbox)
	}{
		{"WebhookCRUD", testWebhookCRUD},
		{"WebhookUpdate", testWebhookUpdate},
		{"DeliveryCreateGetUpdate", testDeliveryCreateGetUpdate},
		{"DeliveryPaging", testDeliveryPaging},
		{"DeliveryCreateMany", testDeliveryCreateMany},
		{"DeliveryClaimConcurrently", testDeliveryClaimRace},
		{"DeliveryListDue", testDeliveryListDue},
		{"WebhookDeleteCascades", testWebhookDelete},
		{"DeliveryDue", testDeliveryDue},
		{"DeliveryClaim", testDeliveryClaim},
		{"DeliveryClaimMany", testDeliveryClaimMany},
		{"DeliveryClaimConcurrentlyInOneStatement", testDeliveryClaimOnce},
		{"DeliverySaveAttempt", testDeliverySaveAttempt},
		{"WebhookListFailing", testWebhookListFailing},
		{"InstanceDeleteTakesWebhooks", testInstanceDeleteTakesWebhooks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.DeliveryOutbox())
		})
	}
}

// webhook stores an endpoint of inst created at the given time.
func (f *fixture) webhook(inst ports.Instance, created time.Time) ports.WebhookEndpoint {
	f.t.Helper()
	w := ports.WebhookEndpoint{
		ID: ports.WebhookID(newID()), SubscriptionID: inst.SubscriptionID, InstanceID: inst.ID,
		URL: "https://example.com/hook", Events: []string{"message.received", "message.status"},
		Enabled: true, Secret: "whsec_current", CreatedAt: created, UpdatedAt: created,
	}
	if err := f.s.Webhooks.CreateWebhook(f.ctx, inst.SubscriptionID, w); err != nil {
		f.t.Fatalf("create webhook: %v", err)
	}
	return w
}

// delivery stores a pending delivery for w due at due.
func (f *fixture) delivery(w ports.WebhookEndpoint, due time.Time) ports.WebhookDelivery {
	f.t.Helper()
	d := ports.WebhookDelivery{
		ID: ports.DeliveryID(newID()), SubscriptionID: w.SubscriptionID, InstanceID: w.InstanceID, EndpointID: w.ID,
		EventID: "evt_" + newID(), EventType: ports.EventMessageReceived, Payload: []byte(`{"id":"evt"}`),
		Status: ports.DeliveryPending, NextAttemptAt: &due, CreatedAt: base, UpdatedAt: base,
	}
	if err := f.s.Deliveries.CreateDelivery(f.ctx, w.SubscriptionID, d); err != nil {
		f.t.Fatalf("create delivery: %v", err)
	}
	return d
}

func testWebhookCRUD(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	w1 := f.webhook(inst, base)
	w2 := f.webhook(inst, base.Add(time.Second))
	f.webhook(f.instance(sub.ID, "two"), base)
	got, err := f.s.Webhooks.GetWebhook(f.ctx, sub.ID, w1.ID)
	if err != nil {
		t.Fatalf("get webhook: %v", err)
	}
	want := w1
	want.CreatedAt, want.UpdatedAt = base.UTC().Truncate(time.Microsecond), base.UTC().Truncate(time.Microsecond)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get webhook (-want +got):\n%s", diff)
	}
	wantCode(t, "get another tenant's", errOnly(f.s.Webhooks.GetWebhook(f.ctx, other.ID, w1.ID)), ports.ENotFound)
	wantCode(t, "create a duplicate id", f.s.Webhooks.CreateWebhook(f.ctx, sub.ID, w1), ports.EConflict)
	list, err := f.s.Webhooks.ListWebhooks(f.ctx, sub.ID, inst.ID)
	if err != nil || len(list) != 2 || list[0].ID != w1.ID || list[1].ID != w2.ID {
		t.Errorf("list webhooks: got %v, %v; want %s and %s", list, err, w1.ID, w2.ID)
	}
	if list, _ := f.s.Webhooks.ListWebhooks(f.ctx, other.ID, inst.ID); len(list) != 0 {
		t.Errorf("list another tenant's: got %d, want 0", len(list))
	}
	wantCode(t, "delete another tenant's", f.s.Webhooks.DeleteWebhook(f.ctx, other.ID, w1.ID), ports.ENotFound)
	if err := f.s.Webhooks.DeleteWebhook(f.ctx, sub.ID, w1.ID); err != nil {
		t.Fatalf("delete webhook: %v", err)
	}
	wantCode(t, "get after delete", errOnly(f.s.Webhooks.GetWebhook(f.ctx, sub.ID, w1.ID)), ports.ENotFound)
	wantCode(t, "delete twice", f.s.Webhooks.DeleteWebhook(f.ctx, sub.ID, w1.ID), ports.ENotFound)
}

func testWebhookUpdate(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	w := f.webhook(f.instance(sub.ID, "one"), base)
	at := base.Add(time.Hour)
	got, err := f.s.Webhooks.UpdateWebhook(f.ctx, sub.ID, w.ID, func(w *ports.WebhookEndpoint) error {
		w.URL, w.Events, w.Description, w.Enabled = "https://example.org/new", []string{"*"}, "d", false
		w.PreviousSecret, w.Secret, w.RotatedAt = w.Secret, "whsec_next", at
		w.LastSuccessAt, w.FirstFailureAt, w.DisabledReason, w.UpdatedAt = &at, &at, "gone", at
		return nil
	})
	if err != nil {
		t.Fatalf("update webhook: %v", err)
	}
	again, _ := f.s.Webhooks.GetWebhook(f.ctx, sub.ID, w.ID)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("read back (-update +get):\n%s", diff)
	}
	utc := at.UTC().Truncate(time.Microsecond)
	if again.URL != "https://example.org/new" || !cmp.Equal(again.Events, []string{"*"}) || again.Enabled ||
		again.Secret != "whsec_next" || again.PreviousSecret != "whsec_current" || !again.RotatedAt.Equal(utc) ||
		again.LastSuccessAt == nil || again.DisabledReason != "gone" || again.RotatedAt.Location() != time.UTC {
		t.Errorf("got %+v, want every field changed", again)
	}
	// Optional times clear again.
	cleared, err := f.s.Webhooks.UpdateWebhook(f.ctx, sub.ID, w.ID, func(w *ports.WebhookEndpoint) error {
		w.FirstFailureAt, w.LastSuccessAt = nil, nil
		return nil
	})
	if err != nil || cleared.FirstFailureAt != nil || cleared.LastSuccessAt != nil {
		t.Errorf("clear times: got %+v, %v", cleared, err)
	}
	boom := errors.New("boom")
	_, err = f.s.Webhooks.UpdateWebhook(f.ctx, sub.ID, w.ID, func(w *ports.WebhookEndpoint) error {
		w.URL = "https://changed.example"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("fn error: got %v, want it returned", err)
	}
	if again, _ := f.s.Webhooks.GetWebhook(f.ctx, sub.ID, w.ID); again.URL != "https://example.org/new" {
		t.Errorf("a failed update changed the URL to %q", again.URL)
	}
	wantCode(t, "update another tenant's", errOnly(f.s.Webhooks.UpdateWebhook(f.ctx, other.ID, w.ID,
		func(*ports.WebhookEndpoint) error { return nil })), ports.ENotFound)
}

func testDeliveryCreateGetUpdate(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	w := f.webhook(f.instance(sub.ID, "one"), base)
	d := f.delivery(w, base)
	got, err := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if err != nil {
		t.Fatalf("get delivery: %v", err)
	}
	want := d
	utc := base.UTC().Truncate(time.Microsecond)
	want.CreatedAt, want.UpdatedAt, want.NextAttemptAt = utc, utc, &utc
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get delivery (-want +got):\n%s", diff)
	}
	wantCode(t, "get another tenant's", errOnly(f.s.Deliveries.GetDelivery(f.ctx, other.ID, d.ID)), ports.ENotFound)
	wantCode(t, "create a duplicate id", f.s.Deliveries.CreateDelivery(f.ctx, sub.ID, d), ports.EConflict)
	up, err := f.s.Deliveries.UpdateDelivery(f.ctx, sub.ID, d.ID, func(d *ports.WebhookDelivery) error {
		d.Status, d.Attempts, d.LastStatusCode, d.LastError = ports.DeliveryDead, 3, 503, "HTTP 503"
		d.LastResponse, d.LatencyMS, d.NextAttemptAt, d.UpdatedAt = "down", 42, nil, base.Add(time.Minute)
		return nil
	})
	if err != nil {
		t.Fatalf("update delivery: %v", err)
	}
	again, _ := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if diff := cmp.Diff(up, again); diff != "" {
		t.Errorf("read back (-update +get):\n%s", diff)
	}
	if again.Status != ports.DeliveryDead || again.Attempts != 3 || again.LastStatusCode != 503 || again.LastResponse != "down" ||
		again.LatencyMS != 42 || again.NextAttemptAt != nil || string(again.Payload) != `{"id":"evt"}` {
		t.Errorf("got %+v, want the update kept and the payload unchanged", again)
	}
	wantCode(t, "update another tenant's", errOnly(f.s.Deliveries.UpdateDelivery(f.ctx, other.ID, d.ID,
		func(*ports.WebhookDelivery) error { return nil })), ports.ENotFound)
}

func testDeliveryPaging(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	w, other := f.webhook(inst, base), f.webhook(inst, base)
	var ids []ports.DeliveryID
	for range 5 {
		ids = append(ids, f.delivery(w, base).ID)
	}
	f.delivery(other, base)
	var got []ports.DeliveryID
	page := ports.PageRequest{Limit: 2}
	for {
		p, err := f.s.Deliveries.ListDeliveries(f.ctx, sub.ID, w.ID, page)
		if err != nil {
			t.Fatalf("list deliveries: %v", err)
		}
		for _, d := range p.Items {
			got = append(got, d.ID)
		}
		if p.Next == "" {
			break
		}
		page.After = p.Next
	}
	want := []ports.DeliveryID{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if !cmp.Equal(got, want) {
		t.Errorf("pages: got %v, want newest first %v", got, want)
	}
}

func testDeliveryClaimRace(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub := f.subscription()
	d := f.delivery(f.webhook(f.instance(sub.ID, "one"), base), base)
	stale := errors.New("stale")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.s.Deliveries.UpdateDelivery(f.ctx, sub.ID, d.ID, func(d *ports.WebhookDelivery) error {
				if d.Attempts != 0 {
					return stale
				}
				d.Attempts++
				return nil
			})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, stale):
			t.Errorf("a losing claim: got %v, want the closure's error", err)
		}
	}
	got, _ := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if won != 1 || got.Attempts != 1 {
		t.Errorf("concurrent claims: got %d winners and %d attempts, want 1 and 1", won, got.Attempts)
	}
}

func testDeliveryListDue(t *testing.T, f *fixture, out ports.DeliveryOutbox) {
	a, b := f.subscription(), f.subscription()
	wa, wb := f.webhook(f.instance(a.ID, "a"), base), f.webhook(f.instance(b.ID, "b"), base)
	first := f.delivery(wb, base)
	second := f.delivery(wa, base.Add(time.Second))
	f.delivery(wa, base.Add(time.Hour)) // not due yet
	done := f.delivery(wa, base)
	if _, err := f.s.Deliveries.UpdateDelivery(f.ctx, a.ID, done.ID, func(d *ports.WebhookDelivery) error {
		d.Status, d.NextAttemptAt = ports.DeliveryDelivered, nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := out.ListDue(f.ctx, base.Add(time.Minute), 10)
	if err != nil {
		t.Fatalf("list due: %v", err)
	}
	var ids []ports.DeliveryID
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	if want := []ports.DeliveryID{first.ID, second.ID}; !cmp.Equal(ids, want) {
		t.Errorf("due: got %v, want %v (across tenants, oldest due first)", ids, want)
	}
	if got, _ := out.ListDue(f.ctx, base.Add(time.Minute), 1); len(got) != 1 {
		t.Errorf("limit 1: got %d, want 1", len(got))
	}
	if got, _ := out.ListDue(f.ctx, base.Add(time.Minute), 0); len(got) != 0 {
		t.Errorf("limit 0: got %d, want 0", len(got))
	}
}

func testWebhookDelete(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	w, keep := f.webhook(inst, base), f.webhook(inst, base)
	d, kept := f.delivery(w, base), f.delivery(keep, base)
	if err := f.s.Webhooks.DeleteWebhook(f.ctx, sub.ID, w.ID); err != nil {
		t.Fatalf("delete webhook: %v", err)
	}
	wantCode(t, "its delivery", errOnly(f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)), ports.ENotFound)
	if _, err := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, kept.ID); err != nil {
		t.Errorf("another endpoint's delivery: got %v, want it kept", err)
	}
}

func testWebhookListFailing(t *testing.T, f *fixture, out ports.DeliveryOutbox) {
	a, b := f.subscription(), f.subscription()
	ia, ib := f.instance(a.ID, "a"), f.instance(b.ID, "b")
	failing := func(inst ports.Instance, since time.Time, enabled bool) ports.WebhookEndpoint {
		t.Helper()
		w := f.webhook(inst, base)
		w, err := f.s.Webhooks.UpdateWebhook(f.ctx, inst.SubscriptionID, w.ID, func(w *ports.WebhookEndpoint) error {
			w.FirstFailureAt, w.Enabled = &since, enabled
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	later := failing(ia, base.Add(time.Hour), true)
	oldest := failing(ib, base, true)
	failing(ia, base, false)                  // disabled already
	failing(ia, base.Add(48*time.Hour), true) // not failing long enough
	f.webhook(ia, base)                       // healthy
	got, err := out.ListFailing(f.ctx, base.Add(24*time.Hour), 10)
	if err != nil {
		t.Fatalf("list failing: %v", err)
	}
	var ids []ports.WebhookID
	for _, w := range got {
		ids = append(ids, w.ID)
	}
	if want := []ports.WebhookID{oldest.ID, later.ID}; !cmp.Equal(ids, want) {
		t.Errorf("failing: got %v, want %v (across tenants, longest failing first)", ids, want)
	}
	if len(got) == 2 && (got[1].SubscriptionID != a.ID || got[1].InstanceID != ia.ID) {
		t.Errorf("got %+v, want the endpoint's tenant and instance", got[1])
	}
	if got, _ := out.ListFailing(f.ctx, base.Add(time.Hour), 1); len(got) != 1 || got[0].ID != oldest.ID {
		t.Errorf("limit 1: got %d, want the oldest", len(got))
	}
	if got, _ := out.ListFailing(f.ctx, base.Add(time.Hour), 0); len(got) != 0 {
		t.Errorf("limit 0: got %d, want 0", len(got))
	}
}

func testInstanceDeleteTakesWebhooks(t *testing.T, f *fixture, out ports.DeliveryOutbox) {
	sub := f.subscription()
	doomed, kept := f.instance(sub.ID, "doomed"), f.instance(sub.ID, "kept")
	w1, w2, keep := f.webhook(doomed, base), f.webhook(doomed, base), f.webhook(kept, base)
	d1, d2, dk := f.delivery(w1, base), f.delivery(w2, base), f.delivery(keep, base)
	if err := f.s.Instances.DeleteInstance(f.ctx, sub.ID, doomed.ID); err != nil {
		t.Fatalf("delete instance: %v", err)
	}
	for _, w := range []ports.WebhookEndpoint{w1, w2} {
		wantCode(t, "its webhook", errOnly(f.s.Webhooks.GetWebhook(f.ctx, sub.ID, w.ID)), ports.ENotFound)
	}
	for _, d := range []ports.WebhookDelivery{d1, d2} {
		wantCode(t, "its delivery", errOnly(f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)), ports.ENotFound)
	}
	if ws, err := f.s.Webhooks.ListWebhooks(f.ctx, sub.ID, doomed.ID); err != nil || len(ws) != 0 {
		t.Errorf("its webhooks: got %d, %v; want none", len(ws), err)
	}
	due, err := out.ListDue(f.ctx, base.Add(time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].ID != dk.ID {
		t.Errorf("due after the delete: got %v, %v; want only the other instance's", due, err)
	}
	if _, err := f.s.Webhooks.GetWebhook(f.ctx, sub.ID, keep.ID); err != nil {
		t.Errorf("another instance's webhook: got %v, want it kept", err)
	}
	// An instance without webhooks deletes as before.
	if err := f.s.Instances.DeleteInstance(f.ctx, sub.ID, f.instance(sub.ID, "bare").ID); err != nil {
		t.Errorf("delete an instance without webhooks: %v", err)
	}
}

// errOnly drops a result, for checking the error alone.
func errOnly[T any](_ T, err error) error { return err }
