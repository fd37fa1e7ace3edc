package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The bench's own arithmetic: deliveries that never arrived count as later
// than any that did, and the receiver counts each (endpoint, event) of the
// current phase once.

func TestQuantileCountsMissingAsLate(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name    string
		want    int
		latency []time.Duration
		q       float64
		got     time.Duration
		ok      bool
	}{
		{"all arrived", 4, []time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms}, 0.5, 3 * ms, true},
		{"p99 of 100", 100, steps(100), 0.99, 100 * ms, true},
		{"one of 100 missing", 100, steps(99), 0.99, 0, false},
		{"half missing, median gone", 10, steps(5), 0.5, 0, false},
		{"nothing wanted", 0, nil, 0.5, 0, false},
	}
	for _, c := range cases {
		p := phaseFigures{want: c.want, got: len(c.latency), latency: c.latency}
		got, ok := p.quantile(c.q)
		if got != c.got || ok != c.ok {
			t.Errorf("%s: quantile(%v) got %v, %v, want %v, %v", c.name, c.q, got, ok, c.got, c.ok)
		}
	}
}

// steps is 1ms, 2ms, … n ms.
func steps(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestReceiverCountsFirstAttemptsOfThePhase(t *testing.T) {
	r := &receiver{}
	r.next()
	old := r.tag()
	r.next()
	now := time.Now().UTC()
	post := func(path, id, text string, at time.Time) int {
		body := fmt.Sprintf(`{"id":%q,"type":"message.received","timestamp":%q,"data":{"text":%q}}`, id, at.Format(time.RFC3339Nano), text)
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("webhook-id", id)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}
	if code := post("/hook/a/0", "evt_1", r.tag()+"1", now); code != http.StatusNoContent {
		t.Fatalf("a delivery: got %d, want 204", code)
	}
	post("/hook/a/0", "evt_1", r.tag()+"1", now)               // a second attempt of the same delivery
	post("/hook/a/1", "evt_1", r.tag()+"1", now)               // the same event at another endpoint
	post("/hook/a/0", "evt_0", old+"0", now)                   // the previous phase's
	post("/hook/a/0", "evt_t0", "", now.Add(-time.Hour))       // a test event from before the phase
	post("/hook/a/0", "evt_t1", "", now.Add(time.Millisecond)) // a test event of the phase
	// An event without a timestamp cannot be measured.
	if code := post("/hook/a/0", "evt_x", "", time.Time{}); code != http.StatusBadRequest {
		t.Errorf("an event without a timestamp: got %d, want 400", code)
	}
	s := r.snapshot()
	if len(s.latency) != 3 || s.events != 2 {
		t.Errorf("got %d deliveries of %d events, want 3 of 2 (evt_1 twice, evt_t1)", len(s.latency), s.events)
	}
	if s.dups != 1 {
		t.Errorf("got %d repeated deliveries, want 1 (evt_1's second attempt at /hook/a/0)", s.dups)
	}
}
