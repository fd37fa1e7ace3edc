package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// The statistics of SPEC §11 in sandbox mode: a read text, a failed text
// and an inbound text each count once, API calls are counted (batched in
// memory and written at the latest when the server stops), and the stats
// routes refuse other tenants' instances and bad dates.

func TestStats(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			statistics(t, b, sim)
		})
	}
}

func statistics(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	s := startOwned(t, b.name, env)
	a, other := s.register(t), s.register(t)
	inst := linkedInstance(t, s, a.Access, "stats")
	theirs := str(s.createInstance(t, other.Access, "theirs"), "id")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "stats"})
	st := openStream(t, s, "", bearer(a.Access))

	// calls counts the requests made from here on that address inst: with
	// its key, or on an /instances/{inst}/… path.
	calls := 0
	do := func(method, path, token string, body any) *response {
		calls++
		return s.do(t, method, path, token, body)
	}
	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	r := do("POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": "counted once"})
	wantStatus(t, r, http.StatusAccepted)
	good := str(r.JSON, "id")
	r = do("POST", "/api/v1/messages/text", key, map[string]any{"to": "+9995550100", "text": "nobody"})
	wantStatus(t, r, http.StatusAccepted)
	st.waitFor(t, 0, "message.status read", messageStatusIs(inst, good, "read"))
	st.waitFor(t, 0, "message.status failed", messageStatusIs(inst, str(r.JSON, "id"), "failed"))
	wantStatus(t, do("POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access,
		map[string]any{"from": "+15550002222", "text": "hello"}), http.StatusAccepted)
	st.waitFor(t, 0, "message.received", func(e event) bool { return e.is(inst, "message.received") })
	wantStatus(t, do("GET", "/api/v1/messages", key, nil), http.StatusOK)

	// Message counts are written with the status moves: visible at once.
	r = do("GET", "/api/v1/instances/"+inst+"/stats", a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	wantCounts(t, r, 1, 1, 1, 1, 1)
	today := time.Now().UTC()
	if days := r.JSON["days"].([]any); len(days) != 30 || str(days[29].(map[string]any), "date") != today.Format(time.DateOnly) {
		t.Errorf("default range: got %d days, want 30 ending today", len(days))
	}

	// A restart: the last flush at shutdown writes the batched API calls.
	s.stop(t)
	s = startOwned(t, b.name, env)
	from := today.AddDate(0, 0, -1).Format(time.DateOnly)
	r = s.do(t, "GET", "/api/v1/stats?instanceId="+inst+"&from="+from, a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	wantCounts(t, r, 1, 1, 1, 1, 1)
	if got := num(obj(t, r.JSON, "totals"), "apiCalls"); got < float64(calls) {
		t.Errorf("apiCalls of the instance: got %v, want at least the %d calls made", got, calls)
	}
	if days := r.JSON["days"].([]any); len(days) != 2 {
		t.Errorf("from yesterday: got %d days, want 2", len(days))
	}
	all := s.do(t, "GET", "/api/v1/stats", a.Access, nil)
	wantStatus(t, all, http.StatusOK)
	wantCounts(t, all, 1, 1, 1, 1, 1)
	if got, inInst := num(obj(t, all.JSON, "totals"), "apiCalls"), num(obj(t, r.JSON, "totals"), "apiCalls"); got <= inInst {
		t.Errorf("apiCalls of the subscription: got %v, want more than the instance's %v (registration aside, the user's own calls)", got, inInst)
	}
	byKey := s.do(t, "GET", "/api/v1/stats", key, nil)
	wantStatus(t, byKey, http.StatusOK)
	wantCounts(t, byKey, 1, 1, 1, 1, 1)

	statsRefusals(t, s, a, other, inst, theirs, key)
}

// statsRefusals: other tenants' instances, keys on the users' route, bad
// dates.
func statsRefusals(t *testing.T, s *ownedServer, a, other account, inst, theirs, key string) {
	t.Helper()
	wantProblem(t, s.do(t, "GET", "/api/v1/stats?instanceId="+theirs, a.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/stats?instanceId="+inst, other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/stats", other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/stats", key, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, s.do(t, "GET", "/api/v1/stats?instanceId="+theirs, key, nil), http.StatusNotFound, "not_found")
	for _, q := range []string{"from=2025-02-30", "to=yesterday", "from=2025-03-02&to=2025-03-01", "from=2024-01-01&to=2025-01-01"} {
		wantProblem(t, s.do(t, "GET", "/api/v1/stats?"+q, a.Access, nil), http.StatusUnprocessableEntity, "validation_failed")
	}
}

// wantCounts checks the message counters of a stats answer.
func wantCounts(t *testing.T, r *response, sent, failed, delivered, read, received float64) {
	t.Helper()
	tot := obj(t, r.JSON, "totals")
	got := []float64{num(tot, "sent"), num(tot, "failed"), num(tot, "delivered"), num(tot, "read"), num(tot, "received")}
	want := []float64{sent, failed, delivered, read, received}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s %s: got sent/failed/delivered/read/received %v, want %v", r.Method, r.Path, got, want)
			return
		}
	}
}
