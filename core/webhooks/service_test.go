package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// take removes and returns the oldest job.
func (e *env) take(t *testing.T) ports.Job {
	t.Helper()
	j, ok := e.queue.TakeOldest()
	if !ok {
		t.Fatal("got no job, want one")
	}
	return j
}

// errRefused stands for the HTTP adapter's SSRF refusal.
var errRefused = errors.New("dial 10.0.0.1:443: forbidden address")

type env struct {
	store *coretest.Store
	clock *coretest.Clock
	queue *coretest.Queue
	bus   *coretest.Bus
	svc   *webhooks.Service
	deps  webhooks.Deps
	p     ports.Principal
	inst  ports.InstanceID
	codes chan int // what the receiver answers; 200 when empty
	hits  chan http.Header
	url   string
}

// newEnv builds a service over fakes; edits change its Deps first.
func newEnv(t *testing.T, edits ...func(*webhooks.Deps)) *env {
	t.Helper()
	e := &env{
		store: coretest.NewStore(), clock: coretest.NewClock(),
		queue: &coretest.Queue{}, bus: &coretest.Bus{},
		codes: make(chan int, 20), hits: make(chan http.Header, 500),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits <- r.Header.Clone()
		code := http.StatusOK
		select {
		case code = <-e.codes:
		default:
		}
		w.WriteHeader(code)
		w.Write([]byte(strings.Repeat("r", 2000)))
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	ids := &coretest.IDs{}
	deps := webhooks.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.DeliveryOutbox(), Clock: e.clock, IDs: ids,
		Queue: e.queue, Realtime: e.bus, HTTP: srv.Client(),
		Events: coretest.NewEventLog(e.clock, nil), EventBacklog: e.store.EventBacklog(),
		CheckURL: func(_ context.Context, url string) error {
			if strings.Contains(url, "10.0.0.1") {
				return ports.Errorf(ports.EInvalid, "must not be a private address")
			}
			return nil
		},
		Encode: func(ev ports.Event) ([]byte, error) {
			return json.Marshal(map[string]any{"id": ev.ID, "type": ev.Type, "instanceId": ev.InstanceID})
		},
		Refused: func(err error) bool { return errors.Is(err, errRefused) },
	}
	for _, edit := range edits {
		edit(&deps)
	}
	e.deps = deps
	e.svc = webhooks.New(deps, webhooks.Config{Schedule: webhooks.Schedule{0, time.Second, time.Minute}})
	e.p = e.store.SeedAccount(ids, e.clock, ports.TierBasic, "owner@example.com")
	e.inst = ports.InstanceID(ids.NewID())
	inst := ports.Instance{ID: e.inst, SubscriptionID: e.p.SubscriptionID, Name: "one", Status: ports.StatusConnected,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.store.Stores().Instances.CreateInstance(t.Context(), e.p.SubscriptionID, inst); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) create(t *testing.T, events ...string) ports.WebhookEndpoint {
	t.Helper()
	w, err := e.svc.Create(t.Context(), e.p, e.inst, webhooks.CreateCmd{URL: e.url, Events: events})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w
}

// run takes the oldest job and handles it.
func (e *env) run(t *testing.T) {
	t.Helper()
	j := e.take(t)
	if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: j, Attempt: 1}); err != nil {
		t.Fatalf("handle %s: %v", j.ID, err)
	}
}

func (e *env) deliveries(t *testing.T, w ports.WebhookID) []ports.WebhookDelivery {
	t.Helper()
	p, err := e.svc.Deliveries(t.Context(), e.p, e.inst, w, ports.PageRequest{})
	if err != nil {
		t.Fatalf("deliveries: %v", err)
	}
	return p.Items
}

// publish appends an event of typ to the log, as a module does in its
// transaction, then dispatches it; it returns the event the realtime bus
// got.
func (e *env) publish(t *testing.T, typ ports.EventType) ports.Event {
	t.Helper()
	e.appendEvent(t, typ)
	if _, err := e.svc.Dispatch(t.Context(), e.p.SubscriptionID); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	events := e.bus.Events()
	return events[len(events)-1]
}

// appendEvent appends an event of typ to the log in a transaction of its
// own, without dispatching it.
func (e *env) appendEvent(t *testing.T, typ ports.EventType) ports.Event {
	t.Helper()
	var ev ports.Event
	err := e.store.InTx(t.Context(), func(ctx context.Context, st ports.Stores) error {
		var err error
		ev, err = e.deps.Events.Append(ctx, st, typ, e.p.SubscriptionID, e.inst, struct{}{})
		return err
	})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return ev
}

func TestCreateValidates(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		cmd    webhooks.CreateCmd
		fields []string
	}{
		{"private url", webhooks.CreateCmd{URL: "https://10.0.0.1/x", Events: []string{"*"}}, []string{"url"}},
		{"empty url", webhooks.CreateCmd{URL: "", Events: []string{"*"}}, []string{"url"}},
		{"no events", webhooks.CreateCmd{URL: "https://example.com"}, []string{"events"}},
		{"unknown event", webhooks.CreateCmd{URL: "https://example.com", Events: []string{"x"}}, []string{"events"}},
		{"long description", webhooks.CreateCmd{URL: "https://example.com", Events: []string{"*"}, Description: strings.Repeat("é", 501)}, []string{"description"}},
		{"all at once", webhooks.CreateCmd{URL: "https://10.0.0.1", Events: []string{}, Description: strings.Repeat("d", 501)}, []string{"url", "events", "description"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Create(t.Context(), e.p, e.inst, tt.cmd)
			pe := ports.AsError(err)
			if pe == nil || pe.Code != ports.EInvalid || len(pe.Fields) != len(tt.fields) {
				t.Fatalf("got %v, want EInvalid on %v", err, tt.fields)
			}
			for i, f := range tt.fields {
				if pe.Fields[i].Field != f {
					t.Errorf("got field %q, want %q", pe.Fields[i].Field, f)
				}
			}
		})
	}
}

func TestCreateRules(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	if !strings.HasPrefix(w.Secret, webhooks.SecretPrefix) || !w.Enabled {
		t.Errorf("got %+v, want an enabled endpoint with a whsec_ secret", w)
	}
	got, err := e.svc.Get(t.Context(), e.p, e.inst, w.ID)
	if err != nil || got.Secret != "" {
		t.Errorf("get: got secret %q, %v; want it hidden", got.Secret, err)
	}
	for range webhooks.MaxEndpoints - 1 {
		e.create(t, "*")
	}
	_, err = e.svc.Create(t.Context(), e.p, e.inst, webhooks.CreateCmd{URL: e.url, Events: []string{"*"}})
	if !ports.IsCode(err, ports.EConflict) {
		t.Errorf("endpoint %d: got %v, want EConflict", webhooks.MaxEndpoints+1, err)
	}
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.p.SubscriptionID, InstanceID: e.inst}
	if _, err := e.svc.List(t.Context(), key, e.inst); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("API key: got %v, want EForbidden", err)
	}
	stranger := e.p
	stranger.SubscriptionID = "another"
	if _, err := e.svc.Get(t.Context(), stranger, e.inst, w.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another tenant: got %v, want ENotFound", err)
	}
	if _, err := e.svc.Get(t.Context(), e.p, "other-instance", w.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another instance's path: got %v, want ENotFound", err)
	}
	want := []string{"webhook.created"}
	if got := e.store.AuditActions(); len(got) != webhooks.MaxEndpoints || got[0] != want[0] {
		t.Errorf("got audit %v, want %d webhook.created", got, webhooks.MaxEndpoints)
	}
}

func TestFanOut(t *testing.T) {
	e := newEnv(t)
	all := e.create(t, "*")
	status := e.create(t, "message.status")
	off := e.create(t, "*")
	f := false
	if _, err := e.svc.Update(t.Context(), e.p, e.inst, off.ID, webhooks.PatchCmd{Enabled: &f}); err != nil {
		t.Fatal(err)
	}
	ev := e.publish(t, ports.EventMessageReceived)
	if !strings.HasPrefix(ev.ID, "evt_") || ev.At.IsZero() {
		t.Errorf("forwarded %+v, want it stamped with an id and time", ev)
	}
	if n := len(e.deliveries(t, all.ID)); n != 1 {
		t.Errorf("* endpoint: got %d deliveries, want 1", n)
	}
	if n := len(e.deliveries(t, status.ID)) + len(e.deliveries(t, off.ID)); n != 0 {
		t.Errorf("filtered and disabled endpoints: got %d deliveries, want 0", n)
	}
	if e.queue.Len() != 1 {
		t.Fatalf("got %d jobs, want 1", e.queue.Len())
	}
	j := e.take(t)
	d := e.deliveries(t, all.ID)[0]
	if j.Type != webhooks.JobDeliver || j.ID != string(d.ID)+":0" || d.EventID != ev.ID || d.Status != ports.DeliveryPending {
		t.Errorf("got job %s %s for %+v, want %s:0 for a pending delivery of %s", j.Type, j.ID, d, d.ID, ev.ID)
	}
}

func TestDeliveryRetriesThenDelivers(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	e.codes <- 500
	e.codes <- 503
	ev := e.publish(t, ports.EventInstanceStatus)
	var ids []string
	for i := range 3 {
		e.run(t)
		h := <-e.hits
		ids = append(ids, h.Get(webhooks.HeaderID))
		if h.Get("Traceparent") != "" {
			t.Errorf("attempt %d carries a trace header", i+1)
		}
		d := e.deliveries(t, w.ID)[0]
		if d.Attempts != i+1 {
			t.Errorf("attempt %d: got attempts %d", i+1, d.Attempts)
		}
	}
	for _, id := range ids {
		if id != ev.ID {
			t.Errorf("got webhook-id %q, want %q on every attempt", id, ev.ID)
		}
	}
	d := e.deliveries(t, w.ID)[0]
	if d.Status != ports.DeliveryDelivered || d.LastStatusCode != 200 || len(d.LastResponse) != 1024 || d.LastError != "" || d.NextAttemptAt != nil {
		t.Errorf("got %+v, want delivered with status 200 and 1 KB of response", d)
	}
	if got, _ := e.store.Stores().Webhooks.GetWebhook(t.Context(), e.p.SubscriptionID, w.ID); got.LastSuccessAt == nil || got.FirstFailureAt != nil {
		t.Errorf("endpoint: got %+v, want a success recorded and no failure run", got)
	}
}

func TestDeliveryDeadThenReplay(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	for range 3 {
		e.codes <- 500
	}
	e.publish(t, ports.EventInstanceStatus)
	for range 3 {
		e.run(t)
	}
	d := e.deliveries(t, w.ID)[0]
	if d.Status != ports.DeliveryDead || d.Attempts != 3 || d.LastError != "HTTP 500" || e.queue.Len() != 0 {
		t.Fatalf("got %+v with %d jobs, want dead after 3 attempts and no job", d, e.queue.Len())
	}
	if _, err := e.svc.Retry(t.Context(), e.p, e.inst, w.ID, d.ID); err != nil {
		t.Fatalf("retry: %v", err)
	}
	// A second click before the attempt: one more job, still one attempt.
	if _, err := e.svc.Retry(t.Context(), e.p, e.inst, w.ID, d.ID); err != nil {
		t.Errorf("retry a replay not yet attempted: got %v, want it accepted", err)
	}
	for e.queue.Len() > 0 {
		e.run(t)
	}
	if d := e.deliveries(t, w.ID)[0]; d.Status != ports.DeliveryDelivered || d.Attempts != 4 {
		t.Errorf("after replay got %+v, want delivered at attempt 4", d)
	}
}

func TestDeliveryGoneDisables(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	e.codes <- 410
	e.publish(t, ports.EventInstanceStatus)
	e.publish(t, ports.EventInstanceStatus)
	e.run(t)
	got, _ := e.store.Stores().Webhooks.GetWebhook(t.Context(), e.p.SubscriptionID, w.ID)
	if got.Enabled || got.DisabledReason == "" {
		t.Errorf("got %+v, want disabled with a reason", got)
	}
	e.run(t) // the second event's delivery finds the endpoint disabled
	for _, d := range e.deliveries(t, w.ID) {
		if d.Status != ports.DeliveryFailed {
			t.Errorf("got %s, want failed", d.Status)
		}
	}
	if actions := e.store.AuditActions(); actions[len(actions)-1] != "webhook.disabled" {
		t.Errorf("got audit %v, want webhook.disabled last", actions)
	}
	entries := e.store.Audit()
	if d := entries[len(entries)-1].Details; d["url"] != e.url || d["reason"] == "" {
		t.Errorf("webhook.disabled: got details %v, want the url and a reason", d)
	}
}

func TestDeliveryStaleJobIgnored(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	e.publish(t, ports.EventInstanceStatus)
	j := e.take(t)
	for range 2 { // a duplicate run of the same job does not post again
		if err := e.svc.HandleDeliver(t.Context(), ports.Delivery{Job: j, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.hits) != 1 {
		t.Errorf("got %d posts, want 1", len(e.hits))
	}
	if d := e.deliveries(t, w.ID)[0]; d.Attempts != 1 {
		t.Errorf("got %d attempts, want 1", d.Attempts)
	}
}

func TestRotateSignsWithBoth(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	r, err := e.svc.RotateSecret(t.Context(), e.p, e.inst, w.ID)
	if err != nil || r.Secret == w.Secret || r.PreviousSecret != "" {
		t.Fatalf("rotate: got %+v, %v; want a new secret and no previous one shown", r, err)
	}
	if _, err := e.svc.Test(t.Context(), e.p, e.inst, w.ID); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	if n := len(strings.Fields((<-e.hits).Get(webhooks.HeaderSignature))); n != 2 {
		t.Errorf("got %d signatures, want 2 within the overlap", n)
	}
	e.clock.Advance(webhooks.RotationOverlap)
	e.svc.Test(t.Context(), e.p, e.inst, w.ID)
	e.run(t)
	if n := len(strings.Fields((<-e.hits).Get(webhooks.HeaderSignature))); n != 1 {
		t.Errorf("got %d signatures, want 1 after the overlap", n)
	}
}

func TestRefusedByGuard(t *testing.T) {
	e := newEnv(t)
	w := e.create(t, "*")
	e.publish(t, ports.EventInstanceStatus)
	// Swap the client for one whose dial the guard refuses.
	refusing := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errRefused })}
	svc := webhooks.New(webhooks.Deps{
		Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: &coretest.IDs{Prefix: "x-"}, Queue: e.queue,
		HTTP: refusing, Refused: func(err error) bool { return errors.Is(err, errRefused) },
	}, webhooks.Config{Schedule: webhooks.Schedule{0, time.Second}})
	if err := svc.HandleDeliver(t.Context(), ports.Delivery{Job: e.take(t), Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	d := e.deliveries(t, w.ID)[0]
	if d.LastError != "refused by the SSRF guard" || strings.Contains(d.LastError, "10.0.0.1") {
		t.Errorf("got last error %q, want the guard named and no address", d.LastError)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRelayReenqueuesLost(t *testing.T) {
	e := newEnv(t)
	e.create(t, "*")
	e.publish(t, ports.EventInstanceStatus)
	e.take(t) // the queue lost it
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("too early: got %d, %v; want 0", n, err)
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 1 {
		t.Errorf("overdue: got %d, %v; want 1", n, err)
	}
	if n, _ := e.svc.RelayOnce(t.Context()); n != 0 {
		t.Errorf("again while queued: got %d, want 0", n)
	}
}
