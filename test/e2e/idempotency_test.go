package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wagate/wagate/adapters/wasim"
)

// Idempotency-Key on the send routes (SPEC §6): concurrent identical
// requests make one message; replays return the original answer marked
// Idempotent-Replayed; a key is refused with another request; a
// validation failure replays too; keys belong to a subscription.
func TestIdempotencyKey(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			idempotencyKey(t, b, sim)
		})
	}
}

// withKey is the headers of a request with a bearer token and an
// Idempotency-Key.
func withKey(token, key string) http.Header {
	h := bearer(token)
	h.Set("Idempotency-Key", key)
	return h
}

func idempotencyKey(t *testing.T, b backend, sim *wasim.Server) {
	s := startOwned(t, b.name, sandboxEnv(t, b, sim))
	a, other := s.register(t), s.register(t)
	inst := linkedInstance(t, s, a.Access, "idem")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})

	body := map[string]any{"to": "+15550001111", "text": "exactly once"}
	first := concurrentSends(t, s, withKey(key, "order-42"), body)
	msgs, _ := list(t, s.do(t, "GET", "/api/v1/messages", key, nil))
	if len(msgs) != 1 || str(msgs[0], "id") != str(first.JSON, "id") {
		t.Fatalf("GET /messages after 50 identical requests: got %d messages, want the one of id %s", len(msgs), str(first.JSON, "id"))
	}

	// After the first completed: the same request, even spelled otherwise,
	// replays it byte for byte.
	replay := s.doWith(t, "POST", "/api/v1/messages/text", withKey(key, "order-42"), `{ "text":"exactly once",  "to":"+15550001111" }`)
	wantStatus(t, replay, http.StatusAccepted)
	if replay.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.Body, first.Body) {
		t.Errorf("replay: got %s (Idempotent-Replayed %q), want the original %s marked replayed", replay.Body, replay.Header.Get("Idempotent-Replayed"), first.Body)
	}
	reused := s.doWith(t, "POST", "/api/v1/messages/text", withKey(key, "order-42"), map[string]any{"to": "+15550001111", "text": "another"})
	wantProblem(t, reused, http.StatusUnprocessableEntity, "idempotency_key_reused")
	// Another route (the JWT form) with the same key is another request.
	wantProblem(t, s.doWith(t, "POST", "/api/v1/instances/"+inst+"/messages/text", withKey(a.Access, "order-42"), body),
		http.StatusUnprocessableEntity, "idempotency_key_reused")

	// A validation failure is the request's answer: it replays.
	bad := map[string]any{"to": "12ab", "text": "hi"}
	r := s.doWith(t, "POST", "/api/v1/messages/text", withKey(key, "bad-1"), bad)
	wantFieldError(t, r, "to")
	again := s.doWith(t, "POST", "/api/v1/messages/text", withKey(key, "bad-1"), bad)
	if again.Status != http.StatusUnprocessableEntity || again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body, r.Body) {
		t.Errorf("a replayed 422: got %d %s (replayed %q), want the original %s", again.Status, again.Body, again.Header.Get("Idempotent-Replayed"), r.Body)
	}

	// A location through the JWT form replays the same message id.
	loc := map[string]any{"to": "+15550002222", "latitude": 52.5, "longitude": 13.4}
	l1 := s.doWith(t, "POST", "/api/v1/instances/"+inst+"/messages/location", withKey(a.Access, "pin-1"), loc)
	wantStatus(t, l1, http.StatusAccepted)
	l2 := s.doWith(t, "POST", "/api/v1/instances/"+inst+"/messages/location", withKey(a.Access, "pin-1"), loc)
	wantStatus(t, l2, http.StatusAccepted)
	if str(l2.JSON, "id") != str(l1.JSON, "id") || l2.Header.Get("Idempotent-Replayed") != "true" || l1.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("location replay: got ids %s then %s (replayed %q, %q), want the same id, only the second replayed",
			str(l1.JSON, "id"), str(l2.JSON, "id"), l1.Header.Get("Idempotent-Replayed"), l2.Header.Get("Idempotent-Replayed"))
	}

	// Keys are the subscription's: another tenant uses the same value freely.
	theirs := linkedInstance(t, s, other.Access, "theirs")
	r = s.doWith(t, "POST", "/api/v1/instances/"+theirs+"/messages/text", withKey(other.Access, "order-42"), body)
	wantStatus(t, r, http.StatusAccepted)
	if r.Header.Get("Idempotent-Replayed") != "" || str(r.JSON, "id") == str(first.JSON, "id") {
		t.Errorf("another tenant's first use of the key: got %s (replayed %q), want a new message", r.Body, r.Header.Get("Idempotent-Replayed"))
	}

	// Bad keys.
	wantFieldError(t, s.doWith(t, "POST", "/api/v1/messages/text", withKey(key, strings.Repeat("k", 256)), body), "Idempotency-Key")
	wantFieldError(t, s.doWith(t, "POST", "/api/v1/messages/text", withKey(key, "tab\there"), body), "Idempotency-Key")
}

// concurrentSends fires 50 identical requests at once and checks that one
// ran, every other either replayed it or found it in progress; it returns
// the one that ran.
func concurrentSends(t *testing.T, s *ownedServer, h http.Header, body any) *response {
	t.Helper()
	const n = 50
	out := make([]*response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = s.send("POST", "/api/v1/messages/text", h, body)
		})
	}
	close(start)
	wg.Wait()
	var first *response
	replayed, busy := 0, 0
	for i, r := range out {
		switch {
		case errs[i] != nil:
			t.Fatalf("request %d: %v", i, errs[i])
		case r.Status == http.StatusAccepted && r.Header.Get("Idempotent-Replayed") == "":
			if first != nil {
				t.Fatalf("got two requests that ran: %s and %s", first.Body, r.Body)
			}
			first = r
		case r.Status == http.StatusAccepted:
			replayed++
		case r.Status == http.StatusConflict && str(r.JSON, "code") == "idempotency_in_progress":
			busy++
		default:
			t.Fatalf("request %d: got %s, want 202 or 409 idempotency_in_progress", i, r)
		}
	}
	if first == nil {
		t.Fatalf("got no request that ran (%d replayed, %d in progress), want one", replayed, busy)
	}
	for _, r := range out {
		if r.Status == http.StatusAccepted && !bytes.Equal(r.Body, first.Body) {
			t.Errorf("a replay: got %s, want the original %s", r.Body, first.Body)
		}
	}
	t.Logf("50 identical requests: 1 ran, %d replayed, %d in progress", replayed, busy)
	return first
}
