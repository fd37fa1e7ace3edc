package e2e

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// Bulk sends (SPEC §8) in sandbox mode, through the real whatsmeow
// adapter and the simulated network: a template bulk reaches every contact
// once with its own text and ends read; pause holds it and resume finishes
// it; cancel fails the rest; a scheduled bulk starts later; a restart
// resumes a running bulk; bad input, other instances and other tenants are
// refused. On each database with the embedded queue, and on PostgreSQL
// with asynq.

func TestBulkSends(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: 100 * time.Millisecond})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			bulkSends(t, b, sim)
		})
	}
}

// phoneBlock hands each bulk of the run its own block of phone numbers on
// the shared simulator.
var (
	phoneBlock atomic.Int64
	phoneBase  = rand.Int64N(500)
)

// phones returns n phone numbers no other bulk of the run uses.
func phones(n int) []string {
	blk := (phoneBase + phoneBlock.Add(1)) % 1000
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1557%03d%04d", blk, i)
	}
	return out
}

func textRecipients(ps []string) []map[string]any {
	out := make([]map[string]any, len(ps))
	for i, p := range ps {
		out[i] = map[string]any{"to": p}
	}
	return out
}

func bulkSends(t *testing.T, b backend, sim *wasim.Server) {
	env := map[string]string{
		"WAGATE_JWT_SECRET":        jwtSecret,
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_AUTH_RATE_PER_MIN": "100000",
		"WAGATE_WHATSAPP":          "sandbox",
		"WAGATE_SANDBOX_ADDR":      sim.Addr(),
		"WAGATE_SEND_DELAY":        "0",
		// The test polls the bulks' progress.
		"WAGATE_TIERS": "basic=5:100000,pro=20:100000,max=40:100000",
	}
	maps.Copy(env, b.env(t))
	s := startOwned(t, b.name, env)
	a, other := s.register(t), s.register(t)
	inst := linkedInstance(t, s, a.Access, "bulk")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	st := openStream(t, s, "", bearer(a.Access))

	templateBulk(t, s, st, sim, a, key, inst)
	pauseResume(t, s, sim, a, key)
	cancelBulk(t, s, sim, a, inst)
	scheduledBulk(t, s, sim, a, key)
	bulkRefusals(t, s, a, other, key, inst)
	restartMidBulk(t, s, env, sim, a, key, b.name)
}

// templateBulk: 20 recipients of a template, created with the API key,
// each get their own text once; the bulk ends completed, then read.
func templateBulk(t *testing.T, s *ownedServer, st *stream, sim *wasim.Server, a account, key, inst string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": unique("greeting"), "body": "Hello {{name}}, your code is {{code}}"})
	wantStatus(t, r, http.StatusCreated)
	tpl := str(r.JSON, "id")
	ps := phones(20)
	rs := make([]map[string]any, len(ps))
	for i, p := range ps {
		rs[i] = map[string]any{"to": p, "variables": map[string]string{"name": fmt.Sprint("N", i), "code": fmt.Sprint(1000 + i)}}
	}
	mark := st.mark()
	r = s.do(t, "POST", "/api/v1/bulk", key, map[string]any{"templateId": tpl, "recipients": rs, "pacing": map[string]any{"minDelayMs": 0, "maxDelayMs": 50}})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	wantKeys(t, "created bulk", r.JSON, "id", "instanceId", "status", "templateId", "total", "queued", "sent", "delivered", "read", "failed",
		"pacing", "scheduledAt", "createdAt", "startedAt", "completedAt")
	if str(r.JSON, "status") != "running" || num(r.JSON, "total") != 20 || num(r.JSON, "queued") != 20 || str(r.JSON, "instanceId") != inst {
		t.Errorf("%s: want a running bulk of 20 queued on %s", r, inst)
	}
	for i, p := range ps {
		receiveOnce(t, sim, p, fmt.Sprintf("Hello N%d, your code is %d", i, 1000+i))
	}
	done := st.waitFor(t, mark, "bulk.status completed", bulkStatusIs(inst, id, "completed"))
	if num(done.Data, "total") != 20 || str(done.Data, "completedAt") == "" {
		t.Errorf("bulk.status completed: got %v, want the summary with total 20 and completedAt", done.Data)
	}
	if n := st.count(mark, bulkStatusIs(inst, id, "running")); n != 1 {
		t.Errorf("got %d bulk.status running events, want 1", n)
	}
	got := waitBulk(t, s, key, id, "all read", func(m map[string]any) bool { return num(m, "read") == 20 })
	if str(got, "status") != "completed" || num(got, "queued")+num(got, "sent")+num(got, "delivered")+num(got, "failed") != 0 {
		t.Errorf("%v: want completed with every recipient read", got)
	}
	for _, p := range ps {
		noMore(t, sim, p)
	}
	// The messages, in recipient order, over two pages; the owner's JWT
	// reaches them too.
	first, next := list(t, s.do(t, "GET", "/api/v1/bulk/"+id+"/messages?limit=15", a.Access, nil))
	rest, last := list(t, s.do(t, "GET", "/api/v1/bulk/"+id+"/messages?limit=15&cursor="+next, key, nil))
	all := append(first, rest...)
	if len(all) != 20 || next == "" || last != "" {
		t.Fatalf("bulk messages: got %d over two pages (cursors %q, %q), want 20 in 15+5", len(all), next, last)
	}
	for i, m := range all {
		if str(m, "to") != digits(ps[i])+"@s.whatsapp.net" || str(m, "status") != "read" || str(m, "text") != fmt.Sprintf("Hello N%d, your code is %d", i, 1000+i) {
			t.Errorf("bulk message %d: got %v, want the read text to %s", i, m, ps[i])
		}
	}
	// They are ordinary messages of the instance.
	m := s.do(t, "GET", "/api/v1/messages/"+str(all[3], "id"), key, nil)
	wantStatus(t, m, http.StatusOK)

	// The JWT form with a text and no pause, as the crash test uses it.
	ps = phones(5)
	r = s.do(t, "POST", "/api/v1/instances/"+inst+"/bulk", a.Access, map[string]any{
		"text": "plain text", "recipients": textRecipients(ps), "pacing": map[string]any{"minDelayMs": 0, "maxDelayMs": 0}})
	wantStatus(t, r, http.StatusAccepted)
	for _, p := range ps {
		receiveOnce(t, sim, p, "plain text")
	}
	waitBulk(t, s, a.Access, str(r.JSON, "id"), "completed", func(m map[string]any) bool { return str(m, "status") == "completed" })
}

// pauseResume: a paused bulk sends nothing more (one send in flight may
// complete), and resumes where it stopped.
func pauseResume(t *testing.T, s *ownedServer, sim *wasim.Server, a account, key string) {
	t.Helper()
	ps := phones(8)
	r := s.do(t, "POST", "/api/v1/bulk", key, map[string]any{"text": "paced", "recipients": textRecipients(ps),
		"pacing": map[string]any{"minDelayMs": 300, "maxDelayMs": 300}})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	waitBulk(t, s, key, id, "a first send", func(m map[string]any) bool { return progressed(m) >= 1 })
	p := s.do(t, "POST", "/api/v1/bulk/"+id+"/pause", key, nil)
	wantStatus(t, p, http.StatusOK)
	if str(p.JSON, "status") != "paused" {
		t.Fatalf("%s: want paused", p)
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/pause", key, nil), http.StatusConflict, "conflict")
	// While paused, over several pauses' worth of time, at most the send
	// in flight completes.
	at := progressed(p.JSON)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		g := s.do(t, "GET", "/api/v1/bulk/"+id, a.Access, nil)
		if n := progressed(g.JSON); n > at+1 || str(g.JSON, "status") != "paused" {
			t.Fatalf("paused bulk: got %s, want at most %d recipients past queued", g, at+1)
		}
	}
	wantStatus(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/resume", a.Access, nil), http.StatusOK)
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/resume", key, nil), http.StatusConflict, "conflict")
	for _, p := range ps {
		receiveOnce(t, sim, p, "paced")
	}
	waitBulk(t, s, key, id, "completed", func(m map[string]any) bool { return str(m, "status") == "completed" })
	for _, p := range ps {
		noMore(t, sim, p)
	}
}

// cancelBulk: the recipients left fail with bulk_cancelled; an ended bulk
// refuses every change.
func cancelBulk(t *testing.T, s *ownedServer, sim *wasim.Server, a account, inst string) {
	t.Helper()
	ps := phones(10)
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/bulk", a.Access, map[string]any{"text": "cancel me", "recipients": textRecipients(ps),
		"pacing": map[string]any{"minDelayMs": 500, "maxDelayMs": 500}})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	waitBulk(t, s, a.Access, id, "a first send", func(m map[string]any) bool { return progressed(m) >= 1 })
	c := s.do(t, "POST", "/api/v1/bulk/"+id+"/cancel", a.Access, nil)
	wantStatus(t, c, http.StatusOK)
	if str(c.JSON, "status") != "cancelled" || str(c.JSON, "completedAt") == "" {
		t.Fatalf("%s: want cancelled with completedAt", c)
	}
	got := waitBulk(t, s, a.Access, id, "nothing queued", func(m map[string]any) bool { return num(m, "queued") == 0 })
	failed := num(got, "failed")
	if failed < 8 || progressed(got) != 10 {
		t.Errorf("%v: want at least 8 of 10 failed and none queued", got)
	}
	msgs, _ := list(t, s.do(t, "GET", "/api/v1/bulk/"+id+"/messages?limit=200", a.Access, nil))
	cancelled := 0
	for _, m := range msgs {
		if str(m, "status") == "failed" {
			if code := str(obj(t, m, "error"), "code"); code != "bulk_cancelled" {
				t.Errorf("message %s: got error %q, want bulk_cancelled", str(m, "id"), code)
			}
			cancelled++
		}
	}
	if cancelled != int(failed) {
		t.Errorf("got %d failed messages, want %v as counted", cancelled, failed)
	}
	for _, verb := range []string{"cancel", "pause", "resume"} {
		wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/"+verb, a.Access, nil), http.StatusConflict, "conflict")
	}
	// The recipients sent before the cancel received their text once; the
	// cancelled ones received nothing.
	for i, m := range msgs {
		if str(m, "status") == "failed" {
			noMore(t, sim, ps[i])
		} else {
			receiveOnce(t, sim, ps[i], "cancel me")
		}
	}
}

// scheduledBulk: scheduled a few seconds ahead, it waits, then runs.
func scheduledBulk(t *testing.T, s *ownedServer, sim *wasim.Server, a account, key string) {
	t.Helper()
	ps := phones(2)
	at := time.Now().UTC().Add(3 * time.Second).Truncate(time.Second)
	r := s.do(t, "POST", "/api/v1/bulk", key, map[string]any{"text": "later", "recipients": textRecipients(ps),
		"scheduledAt": at.Format(time.RFC3339), "pacing": map[string]any{"minDelayMs": 0, "maxDelayMs": 0}})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	if str(r.JSON, "status") != "scheduled" || r.JSON["startedAt"] != nil || str(r.JSON, "scheduledAt") != at.Format(time.RFC3339) {
		t.Fatalf("%s: want scheduled at %s, not started", r, at.Format(time.RFC3339))
	}
	// Pausing a scheduled bulk is refused; cancelling one is not (below).
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/pause", key, nil), http.StatusConflict, "conflict")
	for _, p := range ps {
		receiveOnce(t, sim, p, "later")
	}
	got := waitBulk(t, s, key, id, "completed", func(m map[string]any) bool { return str(m, "status") == "completed" })
	started, err := time.Parse(time.RFC3339Nano, str(got, "startedAt"))
	if err != nil || started.Before(at) {
		t.Errorf("%v: want startedAt at or after scheduledAt %s", got, at)
	}
	// A scheduled bulk can be cancelled before it starts. Created with an
	// Idempotency-Key, a retry answers the same bulk instead of a second.
	body := map[string]any{"text": "never", "recipients": textRecipients(phones(1)),
		"scheduledAt": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}
	h := bearer(key)
	h.Set("Idempotency-Key", unique("bulk"))
	r = s.doWith(t, "POST", "/api/v1/bulk", h, body)
	wantStatus(t, r, http.StatusAccepted)
	again := s.doWith(t, "POST", "/api/v1/bulk", h, body)
	wantStatus(t, again, http.StatusAccepted)
	if again.Header.Get("Idempotent-Replayed") != "true" || str(again.JSON, "id") != str(r.JSON, "id") {
		t.Errorf("%s: want bulk %s replayed", again, str(r.JSON, "id"))
	}
	c := s.do(t, "POST", "/api/v1/bulk/"+str(r.JSON, "id")+"/cancel", key, nil)
	wantStatus(t, c, http.StatusOK)
	if str(c.JSON, "status") != "cancelled" || num(c.JSON, "failed") != 1 {
		t.Errorf("%s: want cancelled with its recipient failed", c)
	}
}

// bulkRefusals: bad input in every field, unlinked instances, keys of
// other instances and other tenants.
func bulkRefusals(t *testing.T, s *ownedServer, a, other account, key, inst string) {
	t.Helper()
	ok := func() map[string]any {
		return map[string]any{"text": "hi", "recipients": []map[string]any{{"to": "+15550001111"}}}
	}
	with := func(k string, v any) map[string]any {
		b := ok()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	many := make([]map[string]any, 10_001)
	for i := range many {
		many[i] = map[string]any{"to": fmt.Sprintf("+1558%07d", i)}
	}
	r := s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": unique("needs"), "body": "Hi {{name}}"})
	wantStatus(t, r, http.StatusCreated)
	tpl := str(r.JSON, "id")
	r = s.do(t, "POST", "/api/v1/templates", other.Access, map[string]any{"name": unique("foreign"), "body": "Hi"})
	wantStatus(t, r, http.StatusCreated)
	foreign := str(r.JSON, "id")
	cases := []struct {
		body  any
		field string
	}{
		{with("recipients", []map[string]any{}), "recipients"},
		{with("recipients", nil), "recipients"},
		{with("recipients", many), "recipients"},
		{with("recipients", []map[string]any{{"to": "12ab"}}), "recipients[0].to"},
		{with("recipients", []map[string]any{{"to": "+15550001111"}, {"to": "+1 555 000 1111"}}), "recipients[1].to"},
		{with("recipients", []map[string]any{{"to": "+15550001111", "variables": map[string]any{"a": "b"}}}), "recipients[0].variables"},
		{with("recipients", []map[string]any{{"to": "+15550001111", "extra": 1}}), "extra"},
		{with("text", nil), "text"},
		{with("text", strings.Repeat("a", 4097)), "text"},
		{with("templateId", tpl), "text"},
		{map[string]any{"templateId": tpl, "recipients": []map[string]any{{"to": "+15550001111"}}}, "recipients[0].variables.name"},
		{map[string]any{"templateId": foreign, "recipients": []map[string]any{{"to": "+15550001111"}}}, "templateId"},
		{with("pacing", map[string]any{"minDelayMs": -1, "maxDelayMs": 0}), "pacing.minDelayMs"},
		{with("pacing", map[string]any{"minDelayMs": 0, "maxDelayMs": 60001}), "pacing.maxDelayMs"},
		{with("pacing", map[string]any{"minDelayMs": 2000, "maxDelayMs": 1000}), "pacing.maxDelayMs"},
		{with("pacing", map[string]any{"minDelayMs": 0}), "pacing.maxDelayMs"},
		{with("scheduledAt", "tomorrow"), "scheduledAt"},
		{with("scheduledAt", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), "scheduledAt"},
		{with("scheduledAt", time.Now().Add(31*24*time.Hour).UTC().Format(time.RFC3339)), "scheduledAt"},
		{with("priority", 1), "priority"},
	}
	for _, c := range cases {
		wantFieldError(t, s.do(t, "POST", "/api/v1/bulk", key, c.body), c.field)
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk", key, `{"text":`), http.StatusBadRequest, "invalid_json")
	huge := `{"text":"hi","recipients":[` + strings.Repeat(`{"to":"+15550001111"},`, 60_000) + `{"to":"+15550001112"}]}`
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk", key, huge), http.StatusRequestEntityTooLarge, "payload_too_large")
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk", a.Access, ok()), http.StatusForbidden, "forbidden")
	_, readOnly := s.createKey(t, a.Access, inst, map[string]any{"name": "reader", "scopes": []string{"messages:read"}})
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk", readOnly, ok()), http.StatusForbidden, "forbidden")

	fresh := str(s.createInstance(t, a.Access, "never-linked"), "id")
	_, freshKey := s.createKey(t, a.Access, fresh, map[string]any{"name": "fresh"})
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk", freshKey, ok()), http.StatusConflict, "instance_not_connected")
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+fresh+"/bulk", a.Access, ok()), http.StatusConflict, "instance_not_connected")

	r = s.do(t, "POST", "/api/v1/bulk", key, with("scheduledAt", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	wantStatus(t, s.do(t, "GET", "/api/v1/bulk/"+id, readOnly, nil), http.StatusOK)
	wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/cancel", readOnly, nil), http.StatusForbidden, "forbidden")
	for _, path := range []string{"/api/v1/bulk/" + id, "/api/v1/bulk/" + id + "/messages"} {
		wantProblem(t, s.do(t, "GET", path, freshKey, nil), http.StatusNotFound, "not_found")
		wantProblem(t, s.do(t, "GET", path, other.Access, nil), http.StatusNotFound, "not_found")
	}
	for _, verb := range []string{"pause", "resume", "cancel"} {
		wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/"+verb, other.Access, nil), http.StatusNotFound, "not_found")
		wantProblem(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/"+verb, freshKey, nil), http.StatusNotFound, "not_found")
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/bulk", other.Access, ok()), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/bulk/not-a-uuid", a.Access, nil), http.StatusNotFound, "not_found")
	wantFieldError(t, s.do(t, "GET", "/api/v1/bulk/"+id+"/messages?cursor=!!", a.Access, nil), "cursor")
	wantStatus(t, s.do(t, "POST", "/api/v1/bulk/"+id+"/cancel", key, nil), http.StatusOK)
}

// restartMidBulk: the server stops while a bulk runs; the next server on
// the same database finishes it, every contact receiving its text once.
func restartMidBulk(t *testing.T, s *ownedServer, env map[string]string, sim *wasim.Server, a account, key, name string) {
	t.Helper()
	ps := phones(10)
	r := s.do(t, "POST", "/api/v1/bulk", key, map[string]any{"text": "across a restart", "recipients": textRecipients(ps),
		"pacing": map[string]any{"minDelayMs": 300, "maxDelayMs": 300}})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	waitBulk(t, s, key, id, "two sends", func(m map[string]any) bool { return progressed(m) >= 2 })
	s.stop(t)
	s = startOwned(t, name, env)
	got := waitBulk(t, s, key, id, "completed after the restart", func(m map[string]any) bool { return str(m, "status") == "completed" })
	if progressed(got) != 10 || num(got, "failed") != 0 {
		t.Errorf("%v: want all 10 sent, none failed", got)
	}
	for _, p := range ps {
		receiveOnce(t, sim, p, "across a restart")
		noMore(t, sim, p)
	}
}

// waitBulk polls the bulk until cond holds.
func waitBulk(t *testing.T, s *ownedServer, token, id, what string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(flowWait)
	for {
		r := s.do(t, "GET", "/api/v1/bulk/"+id, token, nil)
		wantStatus(t, r, http.StatusOK)
		if cond(r.JSON) {
			return r.JSON
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for bulk %s: %s; got %s", id, what, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// progressed counts the recipients past queued.
func progressed(m map[string]any) int {
	return int(num(m, "sent") + num(m, "delivered") + num(m, "read") + num(m, "failed"))
}

// receiveOnce waits for the contact's next message and checks its text.
func receiveOnce(t *testing.T, sim *wasim.Server, phone, text string) {
	t.Helper()
	select {
	case got := <-sim.Contact(phone).Messages():
		if got.Text != text {
			t.Errorf("the contact %s received %q, want %q", phone, got.Text, text)
		}
	case <-time.After(flowWait):
		t.Fatalf("the contact %s received nothing", phone)
	}
}

// noMore checks that the contact has no further message waiting.
func noMore(t *testing.T, sim *wasim.Server, phone string) {
	t.Helper()
	select {
	case got := <-sim.Contact(phone).Messages():
		t.Errorf("the contact %s received %q again, want one message", phone, got.Text)
	default:
	}
}

func bulkStatusIs(inst, id, status string) func(event) bool {
	return func(e event) bool {
		return e.is(inst, "bulk.status") && str(e.Data, "id") == id && str(e.Data, "status") == status
	}
}
