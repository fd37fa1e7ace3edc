package webhooks_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// fakeObserver counts what it is told.
type fakeObserver struct {
	mu        sync.Mutex
	attempted map[string]int
	dropped   map[string]int
	disabled  map[string]int
	lost      int
}

func (o *fakeObserver) FanOutFailed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lost++
}

func (o *fakeObserver) Attempted(outcome string, latency time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.attempted == nil {
		o.attempted = map[string]int{}
	}
	if latency < 0 {
		outcome += " with a negative latency"
	}
	o.attempted[outcome]++
}

func (o *fakeObserver) Dropped(reason string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped == nil {
		o.dropped = map[string]int{}
	}
	o.dropped[reason] += n
}

func (o *fakeObserver) Disabled(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.disabled == nil {
		o.disabled = map[string]int{}
	}
	o.disabled[reason]++
}

func TestObserverSeesOutcomes(t *testing.T) {
	obs := &fakeObserver{}
	e := newEnv(t, func(d *webhooks.Deps) { d.Observer = obs })
	e.create(t, "*")
	for _, code := range []int{200, 500, 500, 500, 410} {
		e.codes <- code
	}
	e.publish(t, ports.EventInstanceStatus)
	e.run(t) // delivered
	e.publish(t, ports.EventInstanceStatus)
	for range 3 { // failed twice, then dead: the schedule has 3 steps
		e.clock.Advance(2 * time.Minute)
		e.run(t)
	}
	e.publish(t, ports.EventInstanceStatus)
	e.publish(t, ports.EventInstanceStatus)
	e.run(t) // gone: the endpoint is disabled, and the next delivery dropped with it
	want := map[string]int{webhooks.OutcomeDelivered: 1, webhooks.OutcomeFailed: 2, webhooks.OutcomeDead: 1, webhooks.OutcomeGone: 1}
	for k, n := range want {
		if obs.attempted[k] != n {
			t.Errorf("attempted %s: got %d, want %d (all: %v)", k, obs.attempted[k], n, obs.attempted)
		}
	}
	if len(obs.attempted) != len(want) {
		t.Errorf("attempted: got %v, want %v", obs.attempted, want)
	}
	if obs.dropped[webhooks.DropEndpointDisabled] != 1 || obs.disabled[webhooks.DisableGone] != 1 {
		t.Errorf("got dropped %v and disabled %v, want 1 dropped for the disabled endpoint and 1 disabled as gone", obs.dropped, obs.disabled)
	}
}

// TestDispatchFailureLosesNothing: a dispatch that cannot write its
// deliveries is counted and leaves the cursor where it was, so the next
// run (the job's retry or the relay) writes them; realtime gets the event
// once, from the run that committed.
func TestDispatchFailureLosesNothing(t *testing.T) {
	obs := &fakeObserver{}
	e := newEnv(t, func(d *webhooks.Deps) { d.Observer = obs })
	w := e.create(t, "*")
	var mu sync.Mutex
	fails := 1
	e.store.Hook = func(method string) error {
		mu.Lock()
		defer mu.Unlock()
		if method != "CreateDelivery" || fails == 0 {
			return nil
		}
		fails--
		return ports.Errorf(ports.EUnavailable, "database restarting")
	}
	e.appendEvent(t, ports.EventInstanceStatus)
	if _, err := e.svc.Dispatch(t.Context(), e.p.SubscriptionID); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("dispatch through a failure: got %v, want EUnavailable", err)
	}
	if n := len(e.deliveries(t, w.ID)); n != 0 || obs.lost != 1 || len(e.bus.Events()) != 0 {
		t.Fatalf("after the failure: got %d deliveries, %d counted, %d realtime; want 0, 1, 0", n, obs.lost, len(e.bus.Events()))
	}
	n, err := e.svc.DispatchBacklog(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("relay: got %d, %v; want 1 event dispatched", n, err)
	}
	if n := len(e.deliveries(t, w.ID)); n != 1 || len(e.bus.Events()) != 1 {
		t.Errorf("after the relay: got %d deliveries and %d realtime events, want 1 each", n, len(e.bus.Events()))
	}
}

// TestDispatchEncodeFailureSkipsTheEvent: an event without an envelope
// fails the same way every time; it is counted and skipped rather than
// holding up its subscription's later events.
func TestDispatchEncodeFailureSkipsTheEvent(t *testing.T) {
	obs := &fakeObserver{}
	var tries int
	e := newEnv(t, func(d *webhooks.Deps) {
		d.Observer = obs
		d.Encode = func(ports.Event) ([]byte, error) {
			tries++
			return nil, errors.New("no wire form")
		}
	})
	e.create(t, "*")
	e.appendEvent(t, ports.EventInstanceStatus)
	for range 2 {
		if _, err := e.svc.Dispatch(t.Context(), e.p.SubscriptionID); err != nil {
			t.Fatalf("dispatch: %v", err)
		}
	}
	if tries != 1 || obs.lost != 1 {
		t.Errorf("got %d tries and %d lost, want 1 and 1: the same event fails the same way again", tries, obs.lost)
	}
}
