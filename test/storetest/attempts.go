package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// The delivery path's single statements: the batch of due deliveries, the
// conditional claim (which also checks the endpoint a drain cached) and
// the conditional record of an outcome.

func testDeliveryDue(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	w, neighbour := f.webhook(inst, base), f.webhook(inst, base)
	due := func(now time.Time, limit int) []ports.DeliveryID {
		t.Helper()
		got, err := f.s.Deliveries.DueDeliveries(f.ctx, sub.ID, w.ID, now, limit)
		if err != nil {
			t.Fatalf("due deliveries: %v", err)
		}
		ids := make([]ports.DeliveryID, len(got))
		for i, d := range got {
			ids[i] = d.ID
		}
		return ids
	}
	if got := due(base, 10); len(got) != 0 {
		t.Errorf("no deliveries: got %v, want none", got)
	}
	done := f.delivery(w, base)
	waiting := f.delivery(w, base.Add(time.Hour)) // a retry due later: not due
	first := f.delivery(w, base.Add(time.Second))
	second := f.delivery(w, base)
	f.delivery(neighbour, base)
	if _, err := f.s.Deliveries.UpdateDelivery(f.ctx, sub.ID, done.ID, func(d *ports.WebhookDelivery) error {
		d.Status, d.NextAttemptAt = ports.DeliveryDelivered, nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	now := base.Add(time.Minute)
	all, err := f.s.Deliveries.DueDeliveries(f.ctx, sub.ID, w.ID, now, 10)
	if err != nil || len(all) != 2 || all[0].ID != first.ID || all[1].ID != second.ID {
		t.Fatalf("due: got %v, %v; want %s then %s (oldest id first, not earliest due)", all, err, first.ID, second.ID)
	}
	if got := all[0]; got.EndpointID != w.ID || got.Status != ports.DeliveryPending || string(got.Payload) != string(first.Payload) {
		t.Errorf("got %+v, want the whole pending row", got)
	}
	cases := []struct {
		name  string
		now   time.Time
		limit int
		want  []ports.DeliveryID
	}{
		{"a batch of one", now, 1, []ports.DeliveryID{first.ID}},
		{"due exactly now", base.Add(time.Second), 10, []ports.DeliveryID{first.ID, second.ID}},
		{"before the first is due", base, 10, []ports.DeliveryID{second.ID}},
		{"once the retry is due", base.Add(2 * time.Hour), 10, []ports.DeliveryID{waiting.ID, first.ID, second.ID}},
		{"before any is due", base.Add(-time.Second), 10, nil},
		{"no limit", now, 0, nil},
	}
	for _, c := range cases {
		got := due(c.now, c.limit)
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
	if got, err := f.s.Deliveries.DueDeliveries(f.ctx, other.ID, w.ID, now, 10); err != nil || len(got) != 0 {
		t.Errorf("another tenant: got %v, %v; want none", got, err)
	}
}

func testDeliveryClaim(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	created, neighbour := f.webhook(inst, base), f.webhook(inst, base)
	// The drain claims with the endpoint as it read it back.
	w, err := f.s.Webhooks.GetWebhook(f.ctx, sub.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	d := f.delivery(w, base)
	at := base.Add(time.Minute)
	claim := ports.DeliveryClaim{ID: d.ID, Endpoint: w.ID, EndpointVersion: w.UpdatedAt, At: at, LeaseEnd: at.Add(30 * time.Second)}
	refused := []struct {
		name string
		sub  ports.SubscriptionID
		edit func(*ports.DeliveryClaim)
	}{
		{"another tenant's", other.ID, nil},
		{"an attempt already counted", sub.ID, func(c *ports.DeliveryClaim) { c.Attempts = 1 }},
		{"another endpoint's", sub.ID, func(c *ports.DeliveryClaim) { c.Endpoint = neighbour.ID }},
		{"an endpoint changed since", sub.ID, func(c *ports.DeliveryClaim) { c.EndpointVersion = base.Add(-time.Second) }},
		{"a missing delivery", sub.ID, func(c *ports.DeliveryClaim) { c.ID = ports.DeliveryID(newID()) }},
	}
	for _, r := range refused {
		c := claim
		if r.edit != nil {
			r.edit(&c)
		}
		if ok, err := f.s.Deliveries.ClaimDelivery(f.ctx, r.sub, c); ok || err != nil {
			t.Errorf("claim %s: got %v, %v; want false, nil", r.name, ok, err)
		}
	}
	if ok, err := f.s.Deliveries.ClaimDelivery(f.ctx, sub.ID, claim); !ok || err != nil {
		t.Fatalf("claim: got %v, %v; want true", ok, err)
	}
	got, err := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if err != nil || got.Attempts != 1 || !got.UpdatedAt.Equal(kept(at)) || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(kept(claim.LeaseEnd)) {
		t.Errorf("claimed: got %+v, %v; want 1 attempt, updated at %s, leased until %s", got, err, at, claim.LeaseEnd)
	}
	if ok, _ := f.s.Deliveries.ClaimDelivery(f.ctx, sub.ID, claim); ok {
		t.Errorf("the same claim twice: got true, want false")
	}
	// A disabled endpoint refuses the claim whatever its version.
	d2 := f.delivery(w, base)
	up, err := f.s.Webhooks.UpdateWebhook(f.ctx, sub.ID, w.ID, func(w *ports.WebhookEndpoint) error {
		w.Enabled = false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := claim
	c.ID, c.EndpointVersion = d2.ID, up.UpdatedAt
	if ok, err := f.s.Deliveries.ClaimDelivery(f.ctx, sub.ID, c); ok || err != nil {
		t.Errorf("claim for a disabled endpoint: got %v, %v; want false, nil", ok, err)
	}
}

func testDeliveryClaimOnce(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub := f.subscription()
	w := f.webhook(f.instance(sub.ID, "one"), base)
	d := f.delivery(w, base)
	const n = 8
	var wg sync.WaitGroup
	won := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			var err error
			won[i], err = f.s.Deliveries.ClaimDelivery(f.ctx, sub.ID, ports.DeliveryClaim{
				ID: d.ID, Endpoint: w.ID, EndpointVersion: w.UpdatedAt, At: base, LeaseEnd: base.Add(time.Minute),
			})
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	n1 := 0
	for _, ok := range won {
		if ok {
			n1++
		}
	}
	got, _ := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if n1 != 1 || got.Attempts != 1 {
		t.Errorf("concurrent claims: got %d winners and %d attempts, want 1 and 1", n1, got.Attempts)
	}
}

func testDeliverySaveAttempt(t *testing.T, f *fixture, _ ports.DeliveryOutbox) {
	sub, other := f.subscription(), f.subscription()
	w := f.webhook(f.instance(sub.ID, "one"), base)
	d := f.delivery(w, base)
	out := d
	next := base.Add(5 * time.Second)
	out.Attempts, out.LastStatusCode, out.LastError, out.LastResponse, out.LatencyMS = 1, 503, "HTTP 503", "busy", 12
	out.NextAttemptAt, out.UpdatedAt = &next, base.Add(time.Second)
	if ok, err := f.s.Deliveries.SaveAttempt(f.ctx, other.ID, out, 0); ok || err != nil {
		t.Errorf("save another tenant's: got %v, %v; want false, nil", ok, err)
	}
	if ok, err := f.s.Deliveries.SaveAttempt(f.ctx, sub.ID, out, 1); ok || err != nil {
		t.Errorf("save after another claim: got %v, %v; want false, nil", ok, err)
	}
	if ok, err := f.s.Deliveries.SaveAttempt(f.ctx, sub.ID, out, 0); !ok || err != nil {
		t.Fatalf("save: got %v, %v; want true", ok, err)
	}
	got, err := f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if err != nil || got.Attempts != 1 || got.LastStatusCode != 503 || got.LastError != "HTTP 503" || got.LastResponse != "busy" ||
		got.LatencyMS != 12 || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(kept(next)) || got.Status != ports.DeliveryPending {
		t.Errorf("saved: got %+v, %v; want the outcome written", got, err)
	}
	out.Status, out.NextAttemptAt = ports.DeliveryDelivered, nil
	if ok, err := f.s.Deliveries.SaveAttempt(f.ctx, sub.ID, out, 1); !ok || err != nil {
		t.Fatalf("save delivered: got %v, %v; want true", ok, err)
	}
	if ok, _ := f.s.Deliveries.SaveAttempt(f.ctx, sub.ID, out, 1); ok {
		t.Errorf("save over a delivered one: got true, want false (only pending rows take an outcome)")
	}
	got, _ = f.s.Deliveries.GetDelivery(f.ctx, sub.ID, d.ID)
	if got.Status != ports.DeliveryDelivered || got.NextAttemptAt != nil {
		t.Errorf("delivered: got %s, next %v; want delivered and no next attempt", got.Status, got.NextAttemptAt)
	}
}

// kept is a time as the stores keep it: to the microsecond.
func kept(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
