package crash

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// logReceiver is the webhook receiver of the event-log crash test: one
// loopback server for several endpoints (/<name>), each verified with its
// own secret. It answers 200 to every well-signed request, except while
// the test is about to kill the server: then it holds new requests
// unanswered until the kill cuts them off. A 2xx the server cannot record
// because it died a microsecond later is the one repeat at-least-once
// delivery cannot avoid; holding, and waiting until the server has
// recorded every 2xx given, makes the kill fall after them, so that a
// repeat means a lost record.
type logReceiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	endpoints map[string]*endpointLog // by name
	holding   bool
	life      int // which run of the server the requests come from
	held      int
	answered  int // (endpoint, webhook-id) pairs answered 2xx
	requests  int
	aborted   int
	problems  []string
}

// endpointLog is what one endpoint saw.
type endpointLog struct {
	wh *standardwebhooks.Webhook
	ok map[string][]int // webhook-id → the life of each 2xx answer
}

func newLogReceiver(t *testing.T) *logReceiver {
	r := &logReceiver{endpoints: map[string]*endpointLog{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// url is the address of the endpoint name.
func (r *logReceiver) url(name string) string { return r.srv.URL + "/" + name }

// setSecret starts accepting requests for the endpoint name.
func (r *logReceiver) setSecret(t *testing.T, name, secret string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("webhook secret of %s: %v", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endpoints[name] = &endpointLog{wh: wh, ok: map[string][]int{}}
}

func (r *logReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	name := strings.TrimPrefix(req.URL.Path, "/")
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	ep := r.endpoints[name]
	if err == nil {
		err = verifyEnvelope(ep, id, body, req.Header)
	}
	if err != nil {
		r.problem(fmt.Sprintf("endpoint %s, webhook-id %s: %v", name, id, err))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.holding {
		r.hold(req)
	}
	if req.Context().Err() != nil {
		r.aborted++ // cut off by the kill: no answer reaches the server
		return
	}
	// Answered under the lock: once quiesce has taken it, no 2xx is on
	// its way.
	if len(ep.ok[id]) == 0 {
		r.answered++
	}
	ep.ok[id] = append(ep.ok[id], r.life)
	w.WriteHeader(http.StatusOK)
}

// hold releases the lock until the connection is gone (the kill closes
// it).
func (r *logReceiver) hold(req *http.Request) {
	r.held++
	r.mu.Unlock()
	<-req.Context().Done()
	r.mu.Lock()
	r.held--
}

// verifyEnvelope checks the signature and that the envelope carries the
// webhook-id as its id.
func verifyEnvelope(ep *endpointLog, id string, body []byte, h http.Header) error {
	if ep == nil {
		return fmt.Errorf("a request for an endpoint the test did not create")
	}
	if err := ep.wh.Verify(body, h); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var env struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	if env.ID != id {
		return fmt.Errorf("got envelope id %q, want the webhook-id %q", env.ID, id)
	}
	return nil
}

// problem records what is wrong with a request; r.mu is held.
func (r *logReceiver) problem(s string) {
	if len(r.problems) < 20 {
		r.problems = append(r.problems, s)
	}
}

// quiesce starts holding every request, and returns how many
// (endpoint, webhook-id) pairs were answered 2xx: no more will be until
// resume, and the kill must wait until the server recorded them all.
func (r *logReceiver) quiesce() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holding = true
	return r.answered
}

// resume answers again, as seen by the server's next run.
func (r *logReceiver) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.life++
	r.holding = false
}

// missing returns the ids the endpoint never answered 2xx.
func (r *logReceiver) missing(name string, ids []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, id := range ids {
		if len(r.endpoints[name].ok[id]) == 0 {
			out = append(out, id)
		}
	}
	return out
}

// check asserts that each endpoint answered every webhook-id 2xx exactly
// once, that it got every event in want (its subscribed events of the
// log) and nothing the log does not have; it logs the figures.
func (r *logReceiver) check(t *testing.T, want map[string][]string, inLog map[string]bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Errorf("receiver: %s", p)
	}
	for name, ids := range want {
		ep := r.endpoints[name]
		repeats, unknown := 0, 0
		for id, lives := range ep.ok {
			if !inLog[id] {
				if unknown++; unknown <= 5 {
					t.Errorf("endpoint %s: got webhook-id %s, which is not in the event log", name, id)
				}
			}
			if len(lives) != 1 {
				if repeats++; repeats <= 10 {
					t.Errorf("endpoint %s: webhook-id %s answered 2xx %d times (in runs %v), want once", name, id, len(lives), lives)
				}
			}
		}
		lost := 0
		for _, id := range ids {
			if len(ep.ok[id]) == 0 {
				if lost++; lost <= 10 {
					t.Errorf("endpoint %s: event %s of a subscribed type never delivered", name, id)
				}
			}
		}
		t.Logf("endpoint %s: %d events subscribed, %d webhook-ids answered 2xx, %d more than once, %d never, %d not in the log",
			name, len(ids), len(ep.ok), repeats, lost, unknown)
	}
	t.Logf("receiver: %d requests in all, %d cut off unanswered by the kills", r.requests, r.aborted)
}
