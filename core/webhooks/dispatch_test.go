package webhooks_test

import (
	"sync"
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestDispatchTwiceDeliversOnce: a second run, or a relay pass after a
// wake-up, finds the cursor moved and writes nothing more.
func TestDispatchTwiceDeliversOnce(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	for range 3 {
		e.appendEvent(t, ports.EventInstanceStatus)
	}
	for range 2 {
		if _, err := e.svc.Dispatch(t.Context(), e.p.SubscriptionID); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := e.svc.DispatchBacklog(t.Context()); err != nil || n != 0 {
		t.Fatalf("relay after the dispatch: got %d, %v; want 0, nil", n, err)
	}
	if n := len(e.deliveries(t, w.ID)); n != 3 {
		t.Errorf("deliveries: got %d, want 3", n)
	}
	if n := len(e.bus.Events()); n != 3 {
		t.Errorf("realtime events: got %d, want 3", n)
	}
	// One job per endpoint and batch: its drain makes the other two.
	if n := e.queue.Len(); n != 1 {
		t.Errorf("delivery jobs: got %d, want 1", n)
	}
}

// TestConcurrentDispatchersDeliverOnce: dispatchers racing on one
// subscription (several nodes, or a wake-up and the relay) write each
// delivery once and forward each event once.
func TestConcurrentDispatchersDeliverOnce(t *testing.T) {
	e := newEnv(t)
	w1, w2 := e.create(t, "*"), e.create(t, string(ports.EventMessageStatus))
	for range 5 {
		e.appendEvent(t, ports.EventMessageStatus)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := e.svc.Dispatch(t.Context(), e.p.SubscriptionID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n1, n2 := len(e.deliveries(t, w1.ID)), len(e.deliveries(t, w2.ID)); n1 != 5 || n2 != 5 {
		t.Errorf("deliveries: got %d and %d, want 5 each", n1, n2)
	}
	seen := map[string]int{}
	for _, ev := range e.bus.Events() {
		seen[ev.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s forwarded %d times, want once", id, n)
		}
	}
	if len(seen) != 5 {
		t.Errorf("realtime events: got %d, want 5", len(seen))
	}
}

// TestDispatchFollowsOnlyNewEvents: events appended after a dispatch go
// out on the next one, in log order, and filters still apply.
func TestDispatchFollowsOnlyNewEvents(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, string(ports.EventMessageStatus))
	first := e.publish(t, ports.EventMessageStatus)
	e.publish(t, ports.EventInstanceStatus)
	last := e.publish(t, ports.EventMessageStatus)
	got := e.deliveries(t, w.ID) // newest first
	if len(got) != 2 || got[0].EventID != last.ID || got[1].EventID != first.ID {
		t.Fatalf("deliveries: got %+v, want the two message.status events", got)
	}
}

// TestDispatchOneJobPerEndpointDeliversAll: a batch enqueues one job per
// endpoint, for its oldest delivery; that job's drain makes every
// delivery of the batch, in order, each once.
func TestDispatchOneJobPerEndpointDeliversAll(t *testing.T) {
	e := newEnv(t)
	w1, w2 := e.create(t, "*"), e.create(t, "*")
	var want []string
	for range 4 {
		want = append(want, e.appendEvent(t, ports.EventInstanceStatus).ID)
	}
	if _, err := e.svc.Dispatch(t.Context(), e.p.SubscriptionID); err != nil {
		t.Fatal(err)
	}
	if n := e.queue.Len(); n != 2 {
		t.Fatalf("delivery jobs: got %d, want 2 (one per endpoint)", n)
	}
	e.run(t)
	if got := e.hitIDs(); !sameIDs(got, want) {
		t.Errorf("the first endpoint's job posted %v, want %v", got, want)
	}
	e.run(t)
	if got := e.hitIDs(); !sameIDs(got, want) {
		t.Errorf("the second endpoint's job posted %v, want %v", got, want)
	}
	for _, w := range []ports.WebhookID{w1.ID, w2.ID} {
		for _, d := range e.deliveries(t, w) {
			if d.Status != ports.DeliveryDelivered || d.Attempts != 1 {
				t.Errorf("endpoint %s: got %s after %d attempts, want delivered after 1", w, d.Status, d.Attempts)
			}
		}
	}
}
