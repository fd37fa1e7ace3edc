package webhooks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// dueJobs counts the queued jobs of delivery d that are due at now.
func (e *env) dueJobs(t *testing.T, d ports.DeliveryID, now time.Time) int {
	t.Helper()
	n := 0
	for _, j := range e.queue.Jobs() {
		var p struct{ ID ports.DeliveryID }
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.ID == d && !j.RunAt.After(now) {
			n++
		}
	}
	return n
}

// claimed leaves delivery d as a claim does: one more attempt, and no
// other drain until the lease (30 s by default) ends.
func (e *env) claimed(t *testing.T, d ports.DeliveryID) {
	t.Helper()
	_, err := e.store.Stores().Deliveries.UpdateDelivery(t.Context(), e.p.SubscriptionID, d, func(d *ports.WebhookDelivery) error {
		now := e.clock.Now()
		lease := now.Add(30 * time.Second)
		d.Attempts++
		d.UpdatedAt, d.NextAttemptAt = now, &lease
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRetryNow: "retry now" makes the attempt now whatever the delivery's
// state, unless an attempt is in flight.
func TestRetryNow(t *testing.T) {
	tests := []struct {
		name string
		// setup leaves the endpoint's only delivery in the state to test.
		setup    func(t *testing.T, e *env, d ports.DeliveryID)
		wantErr  ports.ErrorCode
		attempts int // the delivery's attempts after the retry
	}{
		{"queued, never attempted", func(*testing.T, *env, ports.DeliveryID) {}, "", 0},
		{"waiting for its next attempt", func(t *testing.T, e *env, _ ports.DeliveryID) {
			e.codes <- 500
			e.run(t)
		}, "", 1},
		{"dead", func(t *testing.T, e *env, _ ports.DeliveryID) {
			for range 3 {
				e.codes <- 500
				e.run(t)
			}
		}, "", 3},
		{"delivered", func(t *testing.T, e *env, _ ports.DeliveryID) { e.run(t) }, "", 1},
		{"in flight", func(t *testing.T, e *env, d ports.DeliveryID) {
			e.take(t)
			e.claimed(t, d)
		}, ports.EConflict, 1},
		{"claimed by a process that died", func(t *testing.T, e *env, d ports.DeliveryID) {
			e.take(t)
			e.claimed(t, d)
			e.clock.Advance(31 * time.Second)
		}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.create(t, "*")
			e.publish(t, ports.EventInstanceStatus)
			did := e.deliveries(t, w.ID)[0].ID
			tt.setup(t, e, did)
			now := e.clock.Now()
			d, err := e.svc.Retry(t.Context(), e.p, e.inst, w.ID, did)
			if tt.wantErr != "" {
				if !ports.IsCode(err, tt.wantErr) {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if d.Status != ports.DeliveryPending || d.Attempts != tt.attempts || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(now) {
				t.Errorf("got %s, %d attempts, next %v; want pending, %d attempts, next now", d.Status, d.Attempts, d.NextAttemptAt, tt.attempts)
			}
			if n := e.dueJobs(t, did, now); n < 1 {
				t.Errorf("got no job due now, want one")
			}
		})
	}
}

// TestRetryNowPostsOnce: a retry brought forward posts at once, and the
// attempt's job queued for later finds it made and posts nothing.
func TestRetryNowPostsOnce(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	e.codes <- 500
	e.publish(t, ports.EventInstanceStatus)
	e.run(t)
	<-e.hits
	did := e.deliveries(t, w.ID)[0].ID
	if n := e.dueJobs(t, did, e.clock.Now()); n != 0 {
		t.Fatalf("before the retry: got %d jobs due now, want the next attempt later", n)
	}
	if _, err := e.svc.Retry(t.Context(), e.p, e.inst, w.ID, did); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for e.queue.Len() > 0 {
		e.run(t)
	}
	if len(e.hits) != 1 {
		t.Errorf("got %d posts after the retry, want 1", len(e.hits))
	}
	if d := e.deliveries(t, w.ID)[0]; d.Status != ports.DeliveryDelivered || d.Attempts != 2 {
		t.Errorf("got %s after %d attempts, want delivered after 2", d.Status, d.Attempts)
	}
}

// heldTransport holds each request until released, so that a test can act
// while an attempt is in flight.
type heldTransport struct {
	started, release chan struct{}
	next             http.RoundTripper
}

func (h heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.started <- struct{}{}
	<-h.release
	return h.next.RoundTrip(r)
}

// TestRetryNowInFlight: while a real attempt is in flight, retry is a
// conflict; once it has failed, retry brings the next one forward.
func TestRetryNowInFlight(t *testing.T) {
	held := heldTransport{started: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, func(d *webhooks.Deps) {
		held.next = d.HTTP.Transport
		d.HTTP = &http.Client{Transport: held}
	})
	w := e.create(t, "*")
	e.codes <- 500
	e.publish(t, ports.EventInstanceStatus)
	j := e.take(t)
	done := make(chan error)
	go func() { done <- e.svc.HandleDeliver(context.Background(), ports.Delivery{Job: j, Attempt: 1}) }()
	<-held.started
	did := e.deliveries(t, w.ID)[0].ID
	if _, err := e.svc.Retry(t.Context(), e.p, e.inst, w.ID, did); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("in flight: got %v, want EConflict", err)
	}
	close(held.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Retry(t.Context(), e.p, e.inst, w.ID, did); err != nil {
		t.Errorf("after the failed attempt: got %v, want the next one brought forward", err)
	}
}
