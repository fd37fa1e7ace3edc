package webhooks_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// hookedTransport calls before ahead of each request it sends.
type hookedTransport struct {
	base   http.RoundTripper
	before func(*http.Request)
}

func (h hookedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.before(r)
	return h.base.RoundTrip(r)
}

// newHookedEnv is newEnv whose client calls before ahead of each post.
func newHookedEnv(t *testing.T, before func(*http.Request)) *env {
	return newEnv(t, func(d *webhooks.Deps) {
		d.HTTP = &http.Client{Transport: hookedTransport{base: d.HTTP.Transport, before: before}}
	})
}

// TestBatchClaimFollowsAnEndpointChange: a drain claims its three due
// deliveries at once; the endpoint's URL changes after the first post, so
// the other two are given back and go to the new URL, each once.
func TestBatchClaimFollowsAnEndpointChange(t *testing.T) {
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(moved.Close)
	var (
		e    *env
		w    ports.WebhookEndpoint
		once sync.Once
		to   []string
	)
	e = newHookedEnv(t, func(r *http.Request) {
		to = append(to, "http://"+r.URL.Host)
		once.Do(func() {
			u := moved.URL + "/hook"
			if _, err := e.svc.Update(r.Context(), e.p, e.inst, w.ID, webhooks.PatchCmd{URL: &u}); err != nil {
				t.Errorf("move the endpoint: %v", err)
			}
		})
	})
	w = e.create(t, "*")
	for range 3 {
		e.publish(t, ports.EventInstanceStatus)
	}
	e.run(t)
	if len(to) != 3 || to[0] != e.url || to[1] != moved.URL || to[2] != moved.URL {
		t.Errorf("posted to %v, want the old URL once, then the new one twice", to)
	}
	for _, d := range e.deliveries(t, w.ID) {
		if d.Status != ports.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("got %s after %d attempts, want delivered after 1", d.Status, d.Attempts)
		}
	}
}

// TestBatchClaimGivesBackAnAgingLease: a claimed delivery whose lease has
// less than half left when its turn comes is given back and claimed
// afresh, not posted under the old lease.
func TestBatchClaimGivesBackAnAgingLease(t *testing.T) {
	var e *env
	var once sync.Once
	e = newHookedEnv(t, func(*http.Request) {
		once.Do(func() { e.clock.Advance(20 * time.Second) }) // of a 30 s lease
	})
	w := e.create(t, "*")
	for range 3 {
		e.publish(t, ports.EventInstanceStatus)
	}
	var mu sync.Mutex
	single := 0
	e.store.Hook = func(method string) error {
		mu.Lock()
		defer mu.Unlock()
		if method == "ClaimDelivery" {
			single++
		}
		return nil
	}
	e.run(t)
	e.store.Hook = nil
	if got := len(e.hitIDs()); got != 3 {
		t.Errorf("got %d posts, want 3", got)
	}
	if single != 2 {
		t.Errorf("got %d claims of one delivery, want 2 (the two given back)", single)
	}
	for _, d := range e.deliveries(t, w.ID) {
		if d.Status != ports.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("got %s after %d attempts, want delivered after 1 (a given-back claim is not an attempt)", d.Status, d.Attempts)
		}
	}
}
