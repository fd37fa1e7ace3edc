package e2e

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The webhooks of SPEC §9 in sandbox mode, with a shrunk retry schedule and
// real receivers on loopback (WAGATE_WEBHOOK_ALLOW_PRIVATE=true). Every
// request a receiver gets is verified with the Standard Webhooks library.

// webhookSchedule is the shrunk schedule: three attempts.
const webhookSchedule = "0s,200ms,400ms"

func TestWebhooks(t *testing.T) {
	for _, b := range databases {
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
			inst := str(s.createInstance(t, a.Access, "hooks"), "id")
			t.Run("TestEventAndRotation", func(t *testing.T) { webhookTestAndRotation(t, s, a.Access, inst) })
			t.Run("Retries", func(t *testing.T) { webhookRetries(t, s, a.Access, inst) })
			t.Run("GoneDisables", func(t *testing.T) { webhookGone(t, s, a.Access, inst) })
			t.Run("DeadThenReplay", func(t *testing.T) { webhookDeadReplay(t, s, a.Access, inst) })
			t.Run("Limit", func(t *testing.T) { webhookLimit(t, s, a.Access) })
			t.Run("BadInput", func(t *testing.T) { webhookBadInput(t, s, a.Access, inst) })
			t.Run("Isolation", func(t *testing.T) { webhookIsolation(t, s, a.Access, inst) })
			t.Run("InstanceStatus", func(t *testing.T) { webhookInstanceStatus(t, s, a.Access) })
		})
	}
}

// TestWebhookPrivateRefused: without WAGATE_WEBHOOK_ALLOW_PRIVATE, a
// loopback or private target is refused when the endpoint is saved.
func TestWebhookPrivateRefused(t *testing.T) {
	s := startServer(t, sqlite, nil)
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "strict"), "id")
	for _, url := range []string{"http://127.0.0.1/hook", "https://127.0.0.1/hook", "https://10.0.0.1/hook",
		"https://169.254.169.254/", "https://2130706433/", "https://[::1]/", "https://[::ffff:127.0.0.1]/"} {
		r := s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", a.Access, map[string]any{"url": url, "events": []string{"*"}})
		wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		wantFieldError(t, r, "url")
	}
}

// hit is one request a receiver got.
type hit struct {
	header http.Header
	body   []byte
	env    map[string]any
}

// receiver is a webhook receiver on loopback. It answers with the queued
// status codes, then 200; while down, every request gets 503.
type receiver struct {
	srv   *httptest.Server
	hits  chan hit
	mu    sync.Mutex
	codes []int
	down  bool
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{hits: make(chan hit, 100), codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env map[string]any
		_ = json.Unmarshal(body, &env)
		r.hits <- hit{header: req.Header.Clone(), body: body, env: env}
		w.WriteHeader(r.next())
		io.WriteString(w, "ok from the receiver")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) next() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return http.StatusServiceUnavailable
	}
	if len(r.codes) == 0 {
		return http.StatusOK
	}
	c := r.codes[0]
	r.codes = r.codes[1:]
	return c
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// wait returns the next request whose event type is typ, failing the test
// when none comes.
func (r *receiver) wait(t *testing.T, typ string) hit {
	t.Helper()
	deadline := time.After(flowWait)
	for {
		select {
		case h := <-r.hits:
			if str(h.env, "type") == typ {
				return h
			}
		case <-deadline:
			t.Fatalf("the receiver got no %s event", typ)
		}
	}
}

// verify checks h's signature with each secret, as a receiver would.
func verify(t *testing.T, h hit, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatalf("secret %.10s…: %v", secret, err)
		}
		if err := wh.Verify(h.body, h.header); err != nil {
			t.Errorf("verify with secret %.10s…: %v (signature %q)", secret, err, h.header.Get("webhook-signature"))
		}
	}
	if id := h.header.Get("webhook-id"); id == "" || id != str(h.env, "id") {
		t.Errorf("got webhook-id %q, want the event id %q", id, str(h.env, "id"))
	}
	for k := range h.header {
		if k := strings.ToLower(k); k == "traceparent" || k == "tracestate" || k == "x-request-id" {
			t.Errorf("the delivery carries our header %s", k)
		}
	}
}

func createWebhook(t *testing.T, s *ownedServer, token, inst string, body map[string]any) (id, secret string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", token, body)
	wantStatus(t, r, http.StatusCreated)
	wantKeys(t, "webhook", r.JSON, "id", "instanceId", "url", "events", "description", "enabled", "disabledReason",
		"lastSuccessAt", "createdAt", "updatedAt", "secret")
	id, secret = str(r.JSON, "id"), str(r.JSON, "secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("%s: got secret %q, want whsec_…", r, secret)
	}
	return id, secret
}

func hookPath(inst, id string) string { return "/api/v1/instances/" + inst + "/webhooks/" + id }

// waitDelivery polls the delivery log until the event's delivery matches.
func waitDelivery(t *testing.T, s *ownedServer, token, inst, id, eventID string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(flowWait)
	var last map[string]any
	for time.Now().Before(deadline) {
		r := s.do(t, "GET", hookPath(inst, id)+"/deliveries", token, nil)
		wantStatus(t, r, http.StatusOK)
		data, _ := list(t, r)
		for _, d := range data {
			if str(d, "eventId") == eventID {
				last = d
				if match(d) {
					return d
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("delivery of %s: last seen %v", eventID, last)
	return nil
}

func statusAttempts(status string, attempts int) func(map[string]any) bool {
	return func(d map[string]any) bool { return str(d, "status") == status && int(num(d, "attempts")) == attempts }
}

func testEvent(t *testing.T, s *ownedServer, token, inst, id string) string {
	t.Helper()
	r := s.do(t, "POST", hookPath(inst, id)+"/test", token, nil)
	wantStatus(t, r, http.StatusAccepted)
	return str(r.JSON, "eventId")
}

func webhookTestAndRotation(t *testing.T, s *ownedServer, token, inst string) {
	rc := newReceiver(t)
	id, secret := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL + "/hook", "events": []string{"message.received"}, "description": "main"})
	// The secret is never shown again.
	r := s.do(t, "GET", hookPath(inst, id), token, nil)
	wantStatus(t, r, http.StatusOK)
	if _, ok := r.JSON["secret"]; ok {
		t.Errorf("%s: GET shows the secret", r)
	}
	r = s.do(t, "GET", "/api/v1/instances/"+inst+"/webhooks", token, nil)
	wantStatus(t, r, http.StatusOK)
	if data, _ := list(t, r); len(data) < 1 || data[0]["secret"] != nil {
		t.Errorf("%s: want the endpoint listed without its secret", r)
	}

	// The test event goes to this endpoint whatever its filter.
	evt := testEvent(t, s, token, inst, id)
	h := rc.wait(t, "webhook.test")
	verify(t, h, secret)
	if str(h.env, "id") != evt || str(h.env, "instanceId") != inst || h.env["data"] == nil {
		t.Errorf("got envelope %v, want event %s of %s with data", h.env, evt, inst)
	}
	d := waitDelivery(t, s, token, inst, id, evt, statusAttempts("delivered", 1))
	wantKeys(t, "delivery", d, "id", "eventId", "eventType", "status", "attempts", "lastStatusCode", "lastError",
		"lastResponse", "latencyMs", "nextAttemptAt", "createdAt", "updatedAt")
	if num(d, "lastStatusCode") != 200 || str(d, "lastResponse") != "ok from the receiver" {
		t.Errorf("got delivery %v, want status 200 and the response body", d)
	}

	// After a rotation both secrets verify the next delivery.
	r = s.do(t, "POST", hookPath(inst, id)+"/rotate-secret", token, nil)
	wantStatus(t, r, http.StatusOK)
	next := str(r.JSON, "secret")
	if !strings.HasPrefix(next, "whsec_") || next == secret {
		t.Fatalf("%s: want a new whsec_ secret", r)
	}
	testEvent(t, s, token, inst, id)
	h = rc.wait(t, "webhook.test")
	verify(t, h, secret, next)
	if n := len(strings.Fields(h.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("got %d signatures, want 2 during the rotation", n)
	}

	// Patch: a disabled endpoint refuses the test event.
	r = s.do(t, "PATCH", hookPath(inst, id), token, map[string]any{"enabled": false, "description": "paused"})
	wantStatus(t, r, http.StatusOK)
	if r.JSON["enabled"] != false || str(r.JSON, "description") != "paused" {
		t.Errorf("%s: want disabled and described paused", r)
	}
	wantProblem(t, s.do(t, "POST", hookPath(inst, id)+"/test", token, nil), http.StatusConflict, "conflict")
	wantStatus(t, s.do(t, "DELETE", hookPath(inst, id), token, nil), http.StatusNoContent)
	wantProblem(t, s.do(t, "GET", hookPath(inst, id), token, nil), http.StatusNotFound, "not_found")
}

func webhookRetries(t *testing.T, s *ownedServer, token, inst string) {
	rc := newReceiver(t, 500, 500)
	id, secret := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, inst, id)
	var ids []string
	for range 3 {
		h := rc.wait(t, "webhook.test")
		verify(t, h, secret)
		ids = append(ids, h.header.Get("webhook-id"))
	}
	if ids[0] != evt || ids[1] != evt || ids[2] != evt {
		t.Errorf("got webhook-ids %v, want %s each time", ids, evt)
	}
	waitDelivery(t, s, token, inst, id, evt, statusAttempts("delivered", 3))
	r := s.do(t, "GET", hookPath(inst, id), token, nil)
	if str(r.JSON, "lastSuccessAt") == "" {
		t.Errorf("%s: want lastSuccessAt after a success", r)
	}
}

func webhookGone(t *testing.T, s *ownedServer, token, inst string) {
	rc := newReceiver(t, 410)
	id, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, inst, id)
	rc.wait(t, "webhook.test")
	waitDelivery(t, s, token, inst, id, evt, statusAttempts("failed", 1))
	r := s.do(t, "GET", hookPath(inst, id), token, nil)
	if r.JSON["enabled"] != false || str(r.JSON, "disabledReason") == "" {
		t.Errorf("%s: want the endpoint disabled with a reason after 410", r)
	}
	// Enabling it again clears the reason.
	r = s.do(t, "PATCH", hookPath(inst, id), token, map[string]any{"enabled": true})
	if r.JSON["enabled"] != true || r.JSON["disabledReason"] != nil {
		t.Errorf("%s: want enabled without a reason", r)
	}
}

func webhookDeadReplay(t *testing.T, s *ownedServer, token, inst string) {
	rc := newReceiver(t)
	rc.setDown(true)
	id, secret := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, inst, id)
	d := waitDelivery(t, s, token, inst, id, evt, statusAttempts("dead", 3))
	if num(d, "lastStatusCode") != 503 || str(d, "lastError") == "" || d["nextAttemptAt"] != nil {
		t.Errorf("got %v, want a dead delivery with 503, an error and no next attempt", d)
	}
	rc.setDown(false)
	r := s.do(t, "POST", hookPath(inst, id)+"/deliveries/"+str(d, "id")+"/retry", token, nil)
	wantStatus(t, r, http.StatusAccepted)
	waitDelivery(t, s, token, inst, id, evt, func(d map[string]any) bool { return str(d, "status") == "delivered" })
	var last hit
	for len(rc.hits) > 0 || last.body == nil {
		last = rc.wait(t, "webhook.test")
	}
	verify(t, last, secret)
	if got := last.header.Get("webhook-id"); got != evt {
		t.Errorf("replay: got webhook-id %q, want %q", got, evt)
	}
	// A delivered one is replayable too.
	wantStatus(t, s.do(t, "POST", hookPath(inst, id)+"/deliveries/"+str(d, "id")+"/retry", token, nil), http.StatusAccepted)
}

// webhookLimit: an instance has at most 10 endpoints; the 11th is a 409.
func webhookLimit(t *testing.T, s *ownedServer, token string) {
	inst := str(s.createInstance(t, token, "limit"), "id")
	for range 10 {
		createWebhook(t, s, token, inst, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}})
	}
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", token, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}})
	wantProblem(t, r, http.StatusConflict, "conflict")
}

func webhookBadInput(t *testing.T, s *ownedServer, token, inst string) {
	path := "/api/v1/instances/" + inst + "/webhooks"
	tests := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": "ftp://127.0.0.1/x", "events": []string{"*"}}, "url"},
		{map[string]any{"url": "not a url", "events": []string{"*"}}, "url"},
		{map[string]any{"url": "", "events": []string{"*"}}, "url"},
		{map[string]any{"url": "http://u:p@127.0.0.1/x", "events": []string{"*"}}, "url"},
		{map[string]any{"url": "http://127.0.0.1/" + strings.Repeat("x", 2100), "events": []string{"*"}}, "url"},
		{map[string]any{"url": "http://127.0.0.1/x", "events": []string{"message.deleted"}}, "events"},
		{map[string]any{"url": "http://127.0.0.1/x", "events": []string{}}, "events"},
		{map[string]any{"url": "http://127.0.0.1/x"}, "events"},
		{map[string]any{"url": "http://127.0.0.1/x", "events": []string{"*", "message.status"}}, "events"},
		{map[string]any{"url": "http://127.0.0.1/x", "events": []string{"*"}, "description": strings.Repeat("d", 501)}, "description"},
	}
	for _, tt := range tests {
		r := s.do(t, "POST", path, token, tt.body)
		wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		wantFieldError(t, r, tt.field)
	}
	r := s.do(t, "POST", path, token, map[string]any{"url": 5, "events": []string{"*"}})
	wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	wantFieldError(t, r, "url")
	wantProblem(t, s.do(t, "POST", path, token, "{"), http.StatusBadRequest, "invalid_json")
	id, _ := createWebhook(t, s, token, inst, map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"*"}})
	r = s.do(t, "PATCH", hookPath(inst, id), token, map[string]any{"events": []string{}})
	wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	wantFieldError(t, r, "events")
	r = s.do(t, "PATCH", hookPath(inst, id), token, map[string]any{"url": "gopher://127.0.0.1/"})
	wantFieldError(t, r, "url")
	wantProblem(t, s.do(t, "GET", hookPath(inst, id)+"/deliveries?limit=0", token, nil), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(t, "GET", hookPath(inst, "not-a-uuid"), token, nil), http.StatusNotFound, "not_found")
}

// webhookIsolation: another tenant's endpoints and deliveries are 404 on
// every route, also through the other tenant's own instance; API keys are
// refused.
func webhookIsolation(t *testing.T, s *ownedServer, token, inst string) {
	rc := newReceiver(t)
	id, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	evt := testEvent(t, s, token, inst, id)
	did := str(waitDelivery(t, s, token, inst, id, evt, statusAttempts("delivered", 1)), "id")
	b := s.register(t)
	own := str(s.createInstance(t, b.Access, "theirs"), "id")
	for _, in := range []string{inst, own} {
		for _, rt := range []struct{ method, path string }{
			{"GET", hookPath(in, id)},
			{"PATCH", hookPath(in, id)},
			{"DELETE", hookPath(in, id)},
			{"POST", hookPath(in, id) + "/rotate-secret"},
			{"POST", hookPath(in, id) + "/test"},
			{"GET", hookPath(in, id) + "/deliveries"},
			{"POST", hookPath(in, id) + "/deliveries/" + did + "/retry"},
		} {
			var body any
			if rt.method == "PATCH" {
				body = map[string]any{"enabled": false}
			}
			wantProblem(t, s.do(t, rt.method, rt.path, b.Access, body), http.StatusNotFound, "not_found")
		}
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/webhooks", b.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", b.Access,
		map[string]any{"url": rc.srv.URL, "events": []string{"*"}}), http.StatusNotFound, "not_found")
	// A delivery id of another endpoint of the same tenant is 404 too.
	other, _ := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	wantProblem(t, s.do(t, "POST", hookPath(inst, other)+"/deliveries/"+did+"/retry", token, nil), http.StatusNotFound, "not_found")

	_, key := s.createKey(t, token, inst, map[string]any{"name": "hooks"})
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/webhooks", key, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", key,
		map[string]any{"url": rc.srv.URL, "events": []string{"*"}}), http.StatusForbidden, "forbidden")
	wantProblem(t, s.do(t, "GET", hookPath(inst, id), key, nil), http.StatusForbidden, "forbidden")
	// The owner still sees the endpoint unchanged.
	r := s.do(t, "GET", hookPath(inst, id), token, nil)
	wantStatus(t, r, http.StatusOK)
	if r.JSON["enabled"] != true {
		t.Errorf("%s: another tenant changed the endpoint", r)
	}
}

// webhookInstanceStatus: connecting and scanning emits instance.status
// events, which arrive signed at an endpoint that asked for them.
func webhookInstanceStatus(t *testing.T, s *ownedServer, token string) {
	inst := str(s.createInstance(t, token, "linked"), "id")
	rc := newReceiver(t)
	_, secret := createWebhook(t, s, token, inst, map[string]any{"url": rc.srv.URL, "events": []string{"instance.status"}})
	wantStatus(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/connect", token, nil), http.StatusAccepted)
	waitQR(t, s, token, inst)
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/scan", token, nil), http.StatusAccepted)
	waitInstance(t, s, token, inst, "connected")
	for {
		h := rc.wait(t, "instance.status")
		verify(t, h, secret)
		data, _ := h.env["data"].(map[string]any)
		if str(h.env, "instanceId") != inst {
			t.Fatalf("got an event of %s, want %s", str(h.env, "instanceId"), inst)
		}
		if str(data, "status") == "connected" {
			return
		}
	}
}
