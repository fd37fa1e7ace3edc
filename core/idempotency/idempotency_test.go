package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/idempotency"
	"github.com/wagate/wagate/ports"
)

type env struct {
	store *coretest.Idempotency
	clock *coretest.Clock
	svc   *idempotency.Service
	p     ports.Principal
}

func newEnv() *env {
	e := &env{store: coretest.NewIdempotency(), clock: coretest.NewClock()}
	e.svc = idempotency.New(idempotency.Deps{Store: e.store, Clock: e.clock, IDs: &coretest.IDs{}}, idempotency.Config{})
	e.p = ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: "sub_a"}
	return e
}

var accepted = ports.IdempotencyAnswer{Status: 202, ContentType: "application/json", Body: []byte(`{"id":"m1"}`)}

// wantReason checks err's code and reason.
func wantReason(t *testing.T, err error, code ports.ErrorCode, reason string) {
	t.Helper()
	pe := ports.AsError(err)
	if pe == nil || pe.Code != code || pe.Reason != reason {
		t.Fatalf("got %v, want %s %s", err, code, reason)
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"order-42 / retry #1 ~", true},
		{strings.Repeat("k", idempotency.MaxKeyLen), true},
		{"", false},
		{strings.Repeat("k", idempotency.MaxKeyLen+1), false},
		{"tab\there", false},
		{"line\nbreak", false},
		{"naïve", false},
		{"del\x7f", false},
	}
	for _, tc := range tests {
		err := idempotency.CheckKey(tc.key)
		if got := err == nil; got != tc.ok {
			t.Errorf("CheckKey(%q): got %v, want ok=%v", tc.key, err, tc.ok)
		}
		if pe := ports.AsError(err); err != nil && (pe == nil || len(pe.Fields) != 1 || pe.Fields[0].Field != "Idempotency-Key") {
			t.Errorf("CheckKey(%q): got %v, want an invalid Idempotency-Key field", tc.key, err)
		}
	}
}

// TestBegin walks a key through the situations a second request can meet.
func TestBegin(t *testing.T) {
	tests := []struct {
		name string
		// first runs the first request (nil: leaves it in progress).
		first  *ports.IdempotencyAnswer
		wait   time.Duration // between the two requests
		hash   string        // of the second request
		sub    ports.SubscriptionID
		claim  bool // the second request runs
		replay int  // the status replayed, if any
		code   ports.ErrorCode
		reason string
	}{
		{name: "same request replays", first: &accepted, hash: "h1", replay: 202},
		{name: "another request is refused", first: &accepted, hash: "h2", code: ports.EInvalid, reason: "idempotency_key_reused"},
		{name: "in progress", hash: "h1", code: ports.EConflict, reason: "idempotency_in_progress"},
		{name: "another request while in progress", hash: "h2", code: ports.EInvalid, reason: "idempotency_key_reused"},
		{name: "stale claim taken over", wait: 2 * time.Minute, hash: "h1", claim: true},
		{name: "expired key runs again", first: &accepted, wait: 25 * time.Hour, hash: "h2", claim: true},
		{name: "a 422 replays", first: &ports.IdempotencyAnswer{Status: 422, Body: []byte(`{}`)}, hash: "h1", replay: 422},
		{name: "a 404 replays", first: &ports.IdempotencyAnswer{Status: 404, Body: []byte(`{}`)}, hash: "h1", replay: 404},
		{name: "another tenant's key is its own", first: &accepted, hash: "h2", sub: "sub_b", claim: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			ctx := t.Context()
			c, replay, err := e.svc.Begin(ctx, e.p, "key-1", "h1")
			if err != nil || c == nil || replay != nil {
				t.Fatalf("first request: got claim %v, replay %v, err %v; want a claim", c, replay, err)
			}
			if tc.first != nil {
				if err := c.Finish(ctx, *tc.first); err != nil {
					t.Fatalf("finish: %v", err)
				}
			}
			e.clock.Advance(tc.wait)
			p := e.p
			if tc.sub != "" {
				p.SubscriptionID = tc.sub
			}
			c2, replay, err := e.svc.Begin(ctx, p, "key-1", tc.hash)
			switch {
			case tc.claim:
				if err != nil || c2 == nil {
					t.Fatalf("got claim %v, err %v; want a claim", c2, err)
				}
			case tc.replay != 0:
				if err != nil || replay == nil || replay.Status != tc.replay || string(replay.Body) != string(tc.first.Body) {
					t.Fatalf("got replay %+v, err %v; want the stored %d", replay, err, tc.replay)
				}
			default:
				wantReason(t, err, tc.code, tc.reason)
			}
		})
	}
}

func TestAbandonReleases(t *testing.T) {
	e := newEnv()
	c, _, err := e.svc.Begin(t.Context(), e.p, "k", "h1")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Abandon(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, _, err := e.svc.Begin(t.Context(), e.p, "k", "h2"); err != nil || c == nil {
		t.Errorf("after abandon: got claim %v, err %v; want a claim", c, err)
	}
}

// A takeover must not let the first, late request overwrite the answer of
// the request that took its key over.
func TestLateFinishAfterTakeover(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	late, _, _ := e.svc.Begin(ctx, e.p, "k", "h1")
	e.clock.Advance(2 * time.Minute)
	fresh, _, err := e.svc.Begin(ctx, e.p, "k", "h1")
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	if err := fresh.Finish(ctx, accepted); err != nil {
		t.Fatal(err)
	}
	if err := late.Finish(ctx, ports.IdempotencyAnswer{Status: 202, Body: []byte(`{"id":"late"}`)}); err != nil {
		t.Errorf("late finish: got %v, want nil (ignored)", err)
	}
	if err := late.Abandon(ctx); err != nil {
		t.Fatal(err)
	}
	_, replay, err := e.svc.Begin(ctx, e.p, "k", "h1")
	if err != nil || replay == nil || string(replay.Body) != string(accepted.Body) {
		t.Errorf("got replay %+v, err %v; want the takeover's answer", replay, err)
	}
}

func TestConcurrentBeginsOneClaim(t *testing.T) {
	e := newEnv()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		claims int
		busy   int
	)
	for range 50 {
		wg.Go(func() {
			c, _, err := e.svc.Begin(context.Background(), e.p, "k", "h1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case c != nil:
				claims++
			case ports.AsError(err) != nil && ports.AsError(err).Reason == "idempotency_in_progress":
				busy++
			}
		})
	}
	wg.Wait()
	if claims != 1 || busy != 49 {
		t.Errorf("got %d claims and %d in progress, want 1 and 49", claims, busy)
	}
}

func TestStoreFailure(t *testing.T) {
	e := newEnv()
	boom := errors.New("database down")
	e.store.Hook = func(string) error { return boom }
	if _, _, err := e.svc.Begin(t.Context(), e.p, "k", "h1"); !errors.Is(err, boom) {
		t.Errorf("got %v, want the store's error", err)
	}
}

func TestPurge(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	c, _, _ := e.svc.Begin(ctx, e.p, "old", "h")
	_ = c.Finish(ctx, accepted)
	e.clock.Advance(23 * time.Hour)
	c, _, _ = e.svc.Begin(ctx, e.p, "young", "h")
	_ = c.Finish(ctx, accepted)
	e.clock.Advance(2 * time.Hour)
	if n, err := e.svc.PurgeOnce(ctx); err != nil || n != 1 || e.store.Len() != 1 {
		t.Errorf("got %d purged (%v), %d left; want 1 purged, 1 left", n, err, e.store.Len())
	}
}

// An answer recorded through the claim (in the creating transaction) is
// stored at once: a request whose process dies right after its transaction
// committed is replayed, not run again, even once its claim would count as
// stale.
func TestRecordStoresTheAnswer(t *testing.T) {
	e := newEnv()
	c, _, err := e.svc.Begin(t.Context(), e.p, "k", "h1")
	if err != nil {
		t.Fatal(err)
	}
	claim := &ports.IdempotencyClaim[string]{Key: c.Key(), ID: c.ID(), Answer: func(string) (ports.IdempotencyAnswer, error) {
		return accepted, nil
	}}
	if err := claim.Record(t.Context(), e.store, e.p.SubscriptionID, "m1"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(idempotency.DefaultStaleAfter + time.Second)
	c2, replay, err := e.svc.Begin(t.Context(), e.p, "k", "h1")
	if err != nil || c2 != nil || replay == nil || string(replay.Body) != string(accepted.Body) {
		t.Errorf("got claim %v, replay %v, err %v; want the stored answer replayed", c2, replay, err)
	}
}
