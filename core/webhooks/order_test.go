package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// takeNewest removes and returns the newest job, as a queue running jobs
// in parallel may well start it first.
func (e *env) takeNewest(t *testing.T) ports.Job {
	t.Helper()
	j, ok := e.queue.TakeNewest()
	if !ok {
		t.Fatal("got no job, want one")
	}
	return j
}

// hitIDs drains the webhook-ids the receiver saw, in arrival order.
func (e *env) hitIDs() []string {
	var out []string
	for {
		select {
		case h := <-e.hits:
			out = append(out, h.Get(webhooks.HeaderID))
		default:
			return out
		}
	}
}

func sameIDs(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestDeliveryInCreationOrder(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	var want []string
	for range 3 {
		want = append(want, e.publish(t, ports.EventInstanceStatus).ID)
	}
	// The newest job runs first: it makes the older deliveries before its own.
	j := e.takeNewest(t)
	if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: j, Attempt: 1}); err != nil {
		t.Fatalf("handle %s: %v", j.ID, err)
	}
	if got := e.hitIDs(); !sameIDs(got, want) {
		t.Errorf("got webhook-ids %v, want %v (creation order)", got, want)
	}
	for e.queue.Len() > 0 { // the older jobs find their deliveries made
		e.run(t)
	}
	if got := e.hitIDs(); len(got) != 0 {
		t.Errorf("the older jobs posted %v again, want nothing", got)
	}
	for _, d := range e.deliveries(t, w.ID) {
		if d.Status != ports.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("got %s after %d attempts, want delivered after 1", d.Status, d.Attempts)
		}
	}
}

func TestDeliveryWaitingForRetryIsPassed(t *testing.T) {
	e := newEnv(t)
	e.create(t, "*")
	e.codes <- 500
	first := e.publish(t, ports.EventInstanceStatus)
	e.run(t) // fails; its retry waits a second
	second := e.publish(t, ports.EventInstanceStatus)
	// The retry's delivery is older, but not due: the new one passes.
	if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: e.takeNewest(t), Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.hitIDs(), []string{first.ID, second.ID}; !sameIDs(got, want) {
		t.Fatalf("got webhook-ids %v, want %v", got, want)
	}
	e.clock.Advance(2 * time.Second)
	e.run(t)
	if got, want := e.hitIDs(), []string{first.ID}; !sameIDs(got, want) {
		t.Errorf("retry: got webhook-ids %v, want %v", got, want)
	}
}

func TestDeliveryOverdueRetryGoesFirst(t *testing.T) {
	e := newEnv(t)
	e.create(t, "*")
	e.codes <- 500
	first := e.publish(t, ports.EventInstanceStatus)
	e.run(t) // fails; its retry is due in a second
	retry := e.take(t)
	e.clock.Advance(2 * time.Second)
	second := e.publish(t, ports.EventInstanceStatus)
	e.run(t) // the retry is due and older: it goes first
	if got, want := e.hitIDs(), []string{first.ID, first.ID, second.ID}; !sameIDs(got, want) {
		t.Errorf("got webhook-ids %v, want %v", got, want)
	}
	if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: retry, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if got := e.hitIDs(); len(got) != 0 {
		t.Errorf("the retry's own job posted %v again, want nothing", got)
	}
}

// gate is a receiver that holds every request until released.
type gate struct {
	arrived chan string
	release chan struct{}
}

func newGate(t *testing.T) (*gate, string) {
	g := &gate{arrived: make(chan string, 10), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.arrived <- r.Header.Get(webhooks.HeaderID)
		<-g.release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
	})
	return g, srv.URL
}

func TestDeliveryOneInFlightPerEndpoint(t *testing.T) {
	e := newEnv(t)
	g, slowURL := newGate(t)
	slow, err := e.svc.Create(t.Context(), e.p, e.inst, webhooks.CreateCmd{URL: slowURL, Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	first := e.publish(t, ports.EventInstanceStatus)
	held := e.take(t)
	var wg sync.WaitGroup
	var heldErr error
	wg.Go(func() { heldErr = e.svc.HandleDeliver(context.Background(), ports.Delivery{Job: held, Attempt: 1}) })
	if got := <-g.arrived; got != first.ID {
		t.Fatalf("got %s at the receiver, want %s", got, first.ID)
	}

	// The second event's job knocks and ends at once: the holder will
	// make its delivery.
	second := e.publish(t, ports.EventInstanceStatus)
	e.run(t)
	if d := e.deliveryOf(t, slow.ID, second.ID); d.Attempts != 0 || d.Status != ports.DeliveryPending {
		t.Errorf("the knocking job's delivery: got %s after %d attempts, want pending with none", d.Status, d.Attempts)
	}

	// Another endpoint is not held up by the slow one.
	fast := e.create(t, "*")
	third := e.publish(t, ports.EventInstanceStatus)
	for range 2 { // the slow endpoint's job for the third event knocks too
		e.run(t)
	}
	if d := e.deliveryOf(t, fast.ID, third.ID); d.Status != ports.DeliveryDelivered {
		t.Errorf("the other endpoint's delivery: got %s, want delivered while the slow one is in flight", d.Status)
	}

	close(g.release) // the held job drains the slow endpoint, in order
	wg.Wait()
	if heldErr != nil {
		t.Fatalf("held job: %v", heldErr)
	}
	if got := []string{<-g.arrived, <-g.arrived}; !sameIDs(got, []string{second.ID, third.ID}) {
		t.Errorf("after the first, the slow endpoint got %v, want %v", got, []string{second.ID, third.ID})
	}
	for _, d := range e.deliveries(t, slow.ID) {
		if d.Status != ports.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("slow endpoint: got %s after %d attempts, want delivered after 1", d.Status, d.Attempts)
		}
	}
}

func TestDeliveryInFlightElsewhereIsLeftAlone(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	first := e.publish(t, ports.EventInstanceStatus)
	stale := e.take(t)
	// Another node claims the first delivery and is still posting it.
	d := e.deliveryOf(t, w.ID, first.ID)
	lease := e.clock.Now().Add(30 * time.Second)
	if _, err := e.store.Stores().Deliveries.UpdateDelivery(t.Context(), e.p.SubscriptionID, d.ID, func(d *ports.WebhookDelivery) error {
		d.Attempts, d.NextAttemptAt = 1, &lease
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	second := e.publish(t, ports.EventInstanceStatus)
	e.run(t)
	if got, want := e.hitIDs(), []string{second.ID}; !sameIDs(got, want) {
		t.Errorf("got webhook-ids %v, want only %v: the first is in flight elsewhere", got, want)
	}
	if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: stale, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if got := e.hitIDs(); len(got) != 0 {
		t.Errorf("the claimed delivery's job posted %v, want nothing", got)
	}
	// The other node died: once the lease ends, the next drain retries it.
	e.clock.Advance(time.Minute)
	third := e.publish(t, ports.EventInstanceStatus)
	e.run(t)
	if got, want := e.hitIDs(), []string{first.ID, third.ID}; !sameIDs(got, want) {
		t.Errorf("after the lease: got webhook-ids %v, want %v", got, want)
	}
}

// deliveryOf returns the endpoint's delivery of an event.
func (e *env) deliveryOf(t *testing.T, w ports.WebhookID, event string) ports.WebhookDelivery {
	t.Helper()
	for _, d := range e.deliveries(t, w) {
		if d.EventID == event {
			return d
		}
	}
	t.Fatalf("no delivery of %s to %s", event, w)
	return ports.WebhookDelivery{}
}

func TestDeliveryDrainHandsOver(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	const events = 130 // more than one job drains
	var want []string
	for range events {
		want = append(want, e.publish(t, ports.EventInstanceStatus).ID)
	}
	j := e.takeNewest(t)
	if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: j, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	first := e.hitIDs()
	if len(first) == 0 || len(first) >= events {
		t.Fatalf("one job made %d deliveries, want some but not all %d", len(first), events)
	}
	// The oldest job left in the queue is the older deliveries' own or
	// the hand-over: either drains the rest.
	for e.queue.Len() > 0 {
		e.run(t)
	}
	if got := append(first, e.hitIDs()...); !sameIDs(got, want) {
		t.Errorf("got %d webhook-ids, want all %d in creation order", len(got), len(want))
	}
	for _, d := range e.deliveries(t, w.ID) {
		if d.Status != ports.DeliveryDelivered || d.Attempts != 1 {
			t.Fatalf("got %s after %d attempts, want delivered after 1", d.Status, d.Attempts)
		}
	}
}
