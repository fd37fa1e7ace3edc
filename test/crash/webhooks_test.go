package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/wagate/wagate/adapters/wasim"
)

// Webhook durability (SPEC §9, issue 5): the server is killed with SIGKILL
// while 500 deliveries are pending, in flight or waiting for a retry; after
// the restart every event reaches the receiver, and the receiver answers
// each webhook-id 2xx exactly once: the other requests are retries of
// attempts that failed (on purpose, or cut off by the kill).

const (
	hookEvents = 500
	// hookContacts send the inbound messages, hookEvents/hookContacts each.
	hookContacts = 25
	// hookKillAfter successes at the receiver, the server is killed (once
	// every delivery row exists).
	hookKillAfter = 100
	// hookSchedule retries soon: the failed first attempts, and the
	// attempts the kill cut off, must be retried within the test.
	hookSchedule = "0s,1s,1s,1s,1s,1s,1s,1s"
)

func TestWebhooksSurviveKill(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			webhooksSurviveKill(t, b)
		})
	}
}

func webhooksSurviveKill(t *testing.T, b backend) {
	if testing.Short() {
		t.Skip("a crash test of a minute or more; skipped with -short")
	}
	sim := startSim(t, 0)
	rec := newHookReceiver(t)
	d := deploy(t, b, sim.Addr(), map[string]string{
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
		"WAGATE_WEBHOOK_ALLOW_HTTP":    "true",
		"WAGATE_WEBHOOK_SCHEDULE":      hookSchedule,
	})
	p := startProcess(t, d)
	c := newClient(p)
	c.register(t)
	inst, phone := c.linkInstance(t, "hooks")
	hook := c.must(t, http.StatusCreated, "POST", "/api/v1/instances/"+inst+"/webhooks", map[string]any{
		"url": rec.srv.URL + "/hook", "events": []string{"message.received"},
	})
	rec.setSecret(t, str(hook, "secret"))
	deliveries := "/api/v1/instances/" + inst + "/webhooks/" + str(hook, "id") + "/deliveries"

	sendInbound(t, sim, phone)
	// Every event is stored as a delivery before the kill: what is
	// measured is the delivery of stored events, not the intake.
	var atKill hookSnapshot // taken before the kill: the held attempts end with it
	waitFor(t, 2*time.Minute, "all deliveries stored and an attempt held", func() (bool, string) {
		rows, err := c.pages(deliveries)
		atKill = rec.snapshot()
		return err == nil && len(rows) == hookEvents && atKill.held > 0,
			fmt.Sprintf("%d deliveries stored (%v), %d events succeeded, %d attempts held", len(rows), err, atKill.succeeded, atKill.held)
	})
	start := time.Now()
	kill(t, p)
	if atKill.succeeded == hookEvents {
		t.Fatalf("all %d events were delivered before the kill: the receiver must be slower for the kill to interrupt anything", hookEvents)
	}
	rec.life.Store(1)
	restart(t, d, p)

	waitFor(t, 4*time.Minute, "every event delivered", func() (bool, string) {
		succeeded := rec.distinctSuccesses()
		if succeeded < hookEvents {
			return false, fmt.Sprintf("%d of %d events succeeded at the receiver", succeeded, hookEvents)
		}
		rows, err := c.pages(deliveries)
		byStatus := map[string]int{}
		for _, r := range rows {
			byStatus[str(r, "status")]++
		}
		return err == nil && byStatus["delivered"] == hookEvents, fmt.Sprintf("deliveries by status %v (%v)", byStatus, err)
	})
	rec.check(t, atKill)
	t.Logf("every event delivered %s after the kill", time.Since(start).Round(time.Second))
}

// sendInbound makes hookContacts contacts write hookEvents messages to the
// instance's phone, each contact in order, the contacts at once.
func sendInbound(t *testing.T, sim *wasim.Server, phone string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, hookContacts)
	base := time.Now().UnixNano() % 100_000
	for k := range hookContacts {
		from := fmt.Sprintf("+1777%07d", base*100+int64(k))
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := k; i < hookEvents; i += hookContacts {
				if err := sim.Contact(from).SendText(ctx, phone, fmt.Sprintf("crash-hook-%03d", i)); err != nil {
					errs <- fmt.Errorf("contact %s: %w", from, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// hookReceiver is a webhook receiver on loopback. It verifies every
// signature and answers 500 to the first answered attempt of every third
// event. Until hookKillAfter events have succeeded it answers at once;
// then, until the kill, it holds every request without answering, so that
// when the kill comes an attempt is in flight (cut off: the server claimed
// it and cannot record it) and the rest are pending or waiting for a retry.
type hookReceiver struct {
	srv  *httptest.Server
	life atomic.Int32 // 0 before the kill, 1 after
	wh   atomic.Pointer[standardwebhooks.Webhook]

	mu        sync.Mutex
	events    map[string]*hookEvent // by webhook-id
	succeeded int                   // events with at least one 2xx
	held      int                   // requests being held now
	requests  int
	aborted   int      // requests whose connection closed before the answer (the kill, or the server's timeout)
	problems  []string // bad signatures, bad payloads
}

// hookEvent is what the receiver saw of one event.
type hookEvent struct {
	n       int // the index in the inbound text
	answers []hookAnswer
	success [2]int // 2xx answers per life
}

type hookAnswer struct {
	life, status int
}

// hookSnapshot is the receiver's state at the kill.
type hookSnapshot struct {
	succeeded, held, requests int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{events: map[string]*hookEvent{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) setSecret(t *testing.T, secret string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("webhook secret %q: %v", secret, err)
	}
	r.wh.Store(wh)
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	life := int(r.life.Load())
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.requests++
	hold := life == 0 && r.succeeded >= hookKillAfter
	r.mu.Unlock()
	n, perr := r.parse(id, body, req.Header)
	if err != nil || perr != nil {
		r.problem(fmt.Sprintf("webhook-id %s: read %v, payload %v", id, err, perr))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if hold {
		r.mu.Lock()
		r.held++
		r.mu.Unlock()
		<-req.Context().Done() // the kill closes the connection
		r.mu.Lock()
		r.held--
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Context().Err() != nil {
		r.aborted++ // the server hung up (killed, or its timeout): no answer reaches it
		return
	}
	e := r.events[id]
	if e == nil {
		e = &hookEvent{n: n}
		r.events[id] = e
	}
	status := http.StatusOK
	if n%3 == 0 && len(e.answers) == 0 {
		status = http.StatusInternalServerError
	}
	e.answers = append(e.answers, hookAnswer{life: life, status: status})
	if status == http.StatusOK {
		if e.success[0]+e.success[1] == 0 {
			r.succeeded++
		}
		e.success[life]++
	}
	w.WriteHeader(status)
}

// parse verifies the signature and returns the event's index.
func (r *hookReceiver) parse(id string, body []byte, h http.Header) (int, error) {
	wh := r.wh.Load()
	if wh == nil {
		return 0, fmt.Errorf("a request before the endpoint existed")
	}
	if err := wh.Verify(body, h); err != nil {
		return 0, fmt.Errorf("signature: %w", err)
	}
	var env struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Text string `json:"text"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, err
	}
	if env.ID != id || env.Type != "message.received" {
		return 0, fmt.Errorf("got envelope id %q type %q, want id %q (the webhook-id) and message.received", env.ID, env.Type, id)
	}
	var n int
	if _, err := fmt.Sscanf(env.Data.Text, "crash-hook-%d", &n); err != nil {
		return 0, fmt.Errorf("got text %q, want crash-hook-N", env.Data.Text)
	}
	return n, nil
}

func (r *hookReceiver) problem(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.problems) < 20 {
		r.problems = append(r.problems, s)
	}
}

func (r *hookReceiver) distinctSuccesses() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.succeeded
}

func (r *hookReceiver) snapshot() hookSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return hookSnapshot{succeeded: r.succeeded, held: r.held, requests: r.requests}
}

// check asserts the guarantees and logs the figures: every event reached
// the receiver, each webhook-id was answered 2xx exactly once, and every
// other request was a retry of an attempt that failed (a 500 on purpose,
// or one the kill cut off before it was answered).
func (r *hookReceiver) check(t *testing.T, atKill hookSnapshot) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Errorf("receiver: %s", p)
	}
	seen := map[int]bool{}
	var doubles []string
	retried := 0
	for id, e := range r.events {
		seen[e.n] = true
		if e.success[0]+e.success[1] != 1 {
			doubles = append(doubles, fmt.Sprintf("%s (crash-hook-%03d): answers %v", id, e.n, e.answers))
		}
		if e.n%3 == 0 {
			if len(e.answers) < 2 || e.answers[0].status != http.StatusInternalServerError {
				t.Errorf("event %s (crash-hook-%03d): got answers %v, want a 500 first and a retry", id, e.n, e.answers)
			}
			retried++
		}
	}
	for n := range hookEvents {
		if !seen[n] {
			t.Errorf("crash-hook-%03d never reached the receiver", n)
		}
	}
	if len(r.events) != hookEvents {
		t.Errorf("the receiver saw %d distinct webhook-ids, want %d", len(r.events), hookEvents)
	}
	sort.Strings(doubles)
	for _, s := range doubles {
		t.Errorf("event %s: want exactly one 2xx answer", s)
	}
	t.Logf("at the kill: %d of %d events delivered, %d pending, %d attempts in flight (held unanswered); %d requests before the kill",
		atKill.succeeded, hookEvents, hookEvents-atKill.succeeded, atKill.held, atKill.requests)
	t.Logf("in all: %d requests, %d cut off unanswered (by the kill or the server's timeout), %d events failed once on purpose and were retried, %d webhook-ids answered 2xx more or less than once",
		r.requests, r.aborted, retried, len(doubles))
}
