package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Delivery behaviour of SPEC §9 with real receivers on loopback: order per
// endpoint, Retry-After, redirects, an instance's deletion, and the
// metrics. It runs on the embedded queue (SQLite) and on asynq (PostgreSQL
// and Redis), whose deferral of a busy endpoint's jobs differ.

// record is one request a recorder got.
type record struct {
	at      time.Time
	eventID string // the webhook-id header
	typ     string // the envelope's type
}

// recorder is a loopback receiver that records every request, in arrival
// order, and answers with respond, called with how many requests of the
// same event it has had (1 for the first); nil answers 200.
type recorder struct {
	srv     *httptest.Server
	mu      sync.Mutex
	records []record
	arrived chan struct{}
}

func newRecorder(t *testing.T, respond func(seen int, w http.ResponseWriter)) *recorder {
	r := &recorder{arrived: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env map[string]any
		_ = json.Unmarshal(body, &env)
		r.mu.Lock()
		rec := record{at: time.Now(), eventID: req.Header.Get("webhook-id"), typ: str(env, "type")}
		r.records = append(r.records, rec)
		seen := len(of(r.records, rec.eventID))
		r.mu.Unlock()
		if respond != nil {
			respond(seen, w)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// snapshot returns the requests so far.
func (r *recorder) snapshot() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), r.records...)
}

// waitFor waits until n requests have arrived, failing the test if they
// do not, and returns them.
func (r *recorder) waitFor(t *testing.T, n int) []record {
	t.Helper()
	deadline := time.After(flowWait)
	for {
		if got := r.snapshot(); len(got) >= n {
			return got
		}
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("the receiver got %d requests, want %d", len(r.snapshot()), n)
		}
	}
}

// of returns the records of one event.
func of(records []record, eventID string) []record {
	var out []record
	for _, r := range records {
		if r.eventID == eventID {
			out = append(out, r)
		}
	}
	return out
}

func TestWebhookDelivery(t *testing.T) {
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"WAGATE_JWT_SECRET":            jwtSecret,
				"WAGATE_LOG_LEVEL":             "info",
				"WAGATE_AUTH_RATE_PER_MIN":     "100000",
				"WAGATE_WHATSAPP":              "sandbox",
				"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
				"WAGATE_WEBHOOK_SCHEDULE":      webhookSchedule,
			}
			maps.Copy(env, b.env(t))
			s := startOwned(t, b.name, env)
			a := s.register(t)
			t.Run("InOrderPerEndpoint", func(t *testing.T) { webhookOrder(t, s, a.Access) })
			t.Run("RetryAfter", func(t *testing.T) { webhookRetryAfter(t, s, a.Access) })
			t.Run("RedirectNotFollowed", func(t *testing.T) { webhookRedirect(t, s, a.Access) })
			t.Run("InstanceDeleteTakesWebhooks", func(t *testing.T) { webhookInstanceDelete(t, s, a.Access) })
			t.Run("RetryNow", func(t *testing.T) { webhookRetryNow(t, s, a.Access) })
			// Last: it reads the counts the others left.
			t.Run("Metrics", func(t *testing.T) { webhookMetrics(t, s) })
		})
	}
}

// webhookOrder: events sent one after another reach each endpoint in the
// order they were created, although the receivers answer after random
// pauses and the queue runs many deliveries at once.
func webhookOrder(t *testing.T, s *ownedServer, token string) {
	const events = 30
	inst := str(s.createInstance(t, token, "order"), "id")
	slowly := func(int, http.ResponseWriter) { time.Sleep(time.Duration(rand.N(15)) * time.Millisecond) }
	recs := []*recorder{newRecorder(t, slowly), newRecorder(t, slowly)}
	var ids []string
	for _, rc := range recs {
		id, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
		ids = append(ids, id)
	}
	// One event at a time through the test route of each endpoint, in turn:
	// both endpoints' sequences interleave.
	want := make([][]string, len(recs))
	for range events {
		for i, id := range ids {
			want[i] = append(want[i], testEvent(t, s, token, inst, id))
		}
	}
	for i, rc := range recs {
		var got []string
		for _, r := range rc.waitFor(t, events) {
			got = append(got, r.eventID)
		}
		if strings.Join(got, ",") != strings.Join(want[i], ",") {
			t.Errorf("endpoint %d: got the events in order\n%v\nwant\n%v", i, got, want[i])
		}
	}
}

// webhookRetryAfter: a 503 or 429 with Retry-After: 1 puts the next
// attempt at least a second later, although the schedule's step is 200 ms.
func webhookRetryAfter(t *testing.T, s *ownedServer, token string) {
	inst := str(s.createInstance(t, token, "retry-after"), "id")
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		rc := newRecorder(t, func(seen int, w http.ResponseWriter) {
			if seen == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(code)
			}
		})
		id, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
		evt := testEvent(t, s, token, inst, id)
		waitDelivery(t, s, token, inst, id, evt, statusAttempts("delivered", 2))
		got := of(rc.snapshot(), evt)
		if len(got) != 2 {
			t.Fatalf("%d: got %d requests, want 2", code, len(got))
		}
		// The server reads the clock just before it posts; the receiver
		// records a little later. Allow for that, never for less.
		const asked, slack = time.Second, 50 * time.Millisecond
		if gap := got[1].at.Sub(got[0].at); gap < asked-slack {
			t.Errorf("%d with Retry-After: 1: got the next attempt %v after the first, want at least %v", code, gap, asked)
		}
	}
}

// webhookRedirect: a 302 to an internal address is a failed attempt; the
// redirect's target never sees a request.
func webhookRedirect(t *testing.T, s *ownedServer, token string) {
	inst := str(s.createInstance(t, token, "redirect"), "id")
	internal := newRecorder(t, nil)
	rc := newRecorder(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", internal.srv.URL+"/admin")
		w.WriteHeader(http.StatusFound)
	})
	id, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, inst, id)
	d := waitDelivery(t, s, token, inst, id, evt, statusAttempts("dead", 3))
	if num(d, "lastStatusCode") != http.StatusFound || !strings.Contains(str(d, "lastError"), "redirect") {
		t.Errorf("got %v, want the 302 logged as a failure", d)
	}
	if n := len(of(rc.snapshot(), evt)); n != 3 {
		t.Errorf("the redirecting receiver got %d requests, want 3", n)
	}
	if got := internal.snapshot(); len(got) != 0 {
		t.Errorf("the redirect's target got %d requests, want none", len(got))
	}
}

// webhookInstanceDelete: deleting an instance deletes its endpoints and
// their deliveries, and a retry that was due is never attempted.
func webhookInstanceDelete(t *testing.T, s *ownedServer, token string) {
	doomed := str(s.createInstance(t, token, "doomed"), "id")
	kept := str(s.createInstance(t, token, "kept"), "id")
	// Each event's first attempt asks for two seconds; the second succeeds.
	rc := newRecorder(t, func(seen int, w http.ResponseWriter) {
		if seen == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	gone, _ := createWebhook(t, s, token, doomed, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, doomed, gone)
	rc.waitFor(t, 1)
	wantStatus(t, s.do(t, "DELETE", "/api/v1/instances/"+doomed, token, nil), http.StatusNoContent)
	deleted := time.Now()
	wantProblem(t, s.do(t, "GET", hookPath(doomed, gone), token, nil), http.StatusNotFound, "not_found")

	// A later event to the kept instance, with the same answers: once its
	// retry has run, the deleted delivery's retry (due earlier) has had
	// its turn too.
	id, _ := createWebhook(t, s, token, kept, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	control := testEvent(t, s, token, kept, id)
	waitDelivery(t, s, token, kept, id, control, statusAttempts("delivered", 2))
	got := of(rc.snapshot(), evt)
	if len(got) == 0 {
		t.Fatal("the receiver never got the doomed instance's event")
	}
	for _, r := range got[1:] {
		if r.at.After(deleted) {
			t.Errorf("the doomed instance's event was attempted %v after the instance was deleted", r.at.Sub(deleted))
		}
	}
}

// webhookRetryNow: "retry now" is a conflict while an attempt is in
// flight; once that attempt has failed and asked for five minutes, it
// brings the next attempt forward, and the delivery goes at once.
func webhookRetryNow(t *testing.T, s *ownedServer, token string) {
	inst := str(s.createInstance(t, token, "retry-now"), "id")
	inside, release := make(chan struct{}), make(chan struct{})
	rc := newRecorder(t, func(seen int, w http.ResponseWriter) {
		if seen == 1 {
			inside <- struct{}{}
			<-release
			w.Header().Set("Retry-After", "300")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	id, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, inst, id)
	<-inside
	d := waitDelivery(t, s, token, inst, id, evt, statusAttempts("pending", 1))
	retry := hookPath(inst, id) + "/deliveries/" + str(d, "id") + "/retry"
	wantProblem(t, s.do(t, "POST", retry, token, nil), http.StatusConflict, "conflict")
	close(release)
	waitDelivery(t, s, token, inst, id, evt, func(d map[string]any) bool {
		return statusAttempts("pending", 1)(d) && num(d, "lastStatusCode") == http.StatusServiceUnavailable
	})
	wantStatus(t, s.do(t, "POST", retry, token, nil), http.StatusAccepted)
	waitDelivery(t, s, token, inst, id, evt, statusAttempts("delivered", 2))
}

// webhookMetrics: the delivery families are on /metrics, with the counts
// the tests before left.
func webhookMetrics(t *testing.T, s *ownedServer) {
	r := s.do(t, "GET", "/metrics", "", nil)
	wantStatus(t, r, http.StatusOK)
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "wagate_webhook_") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if v, err := strconv.ParseFloat(value, 64); ok && err == nil {
			samples[name] = v
		}
	}
	atLeast := map[string]float64{
		`wagate_webhook_attempts_total{outcome="delivered"}`:                  60,
		`wagate_webhook_attempts_total{outcome="failed"}`:                     4,
		`wagate_webhook_attempts_total{outcome="dead"}`:                       1,
		`wagate_webhook_attempt_duration_seconds_count{outcome="dead"}`:       1,
		`wagate_webhook_endpoints_disabled_total{reason="gone"}`:              0,
		`wagate_webhook_deliveries_dropped_total{reason="endpoint_disabled"}`: 0,
		`wagate_webhook_fanout_failures_total`:                                0,
	}
	for name, min := range atLeast {
		v, ok := samples[name]
		if !ok || v < min {
			t.Errorf("got %s = %v (present: %v), want at least %v", name, v, ok, min)
		}
	}
	for name := range samples {
		if strings.Contains(name, "http://") || strings.Contains(name, "instance") || strings.Contains(name, "endpoint=") {
			t.Errorf("got series %s, want no URLs, instances or endpoints as labels", name)
		}
	}
}
