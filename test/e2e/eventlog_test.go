package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
)

// The event log read back (SPEC §10): GET /events?after= for a client
// that was down, and the stream's replay joined to the live events. The
// events are webhook tests, which go through the log like any other.

func TestEventReplay(t *testing.T) {
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := serverEnv(t, b, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"})
			s := startOwned(t, b.name, env)
			eventReplay(t, s, env)
		})
	}
}

// producer makes events on the instances of one account.
type producer struct {
	s     *ownedServer
	token string
	hooks map[string]string // instance → webhook id
}

func newProducer(t *testing.T, s *ownedServer, token string, insts ...string) *producer {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(sink.Close)
	p := &producer{s: s, token: token, hooks: map[string]string{}}
	for _, inst := range insts {
		p.hooks[inst], _ = createWebhook(t, s, token, inst, map[string]any{"url": sink.URL, "events": []string{"*"}})
	}
	return p
}

// event makes one event on inst and returns its id.
func (p *producer) event(t *testing.T, inst string) string {
	return testEvent(t, p.s, p.token, inst, p.hooks[inst])
}

// readLog pages GET /events with the query until an empty page and
// returns every id, checking that each page's nextCursor is its last id.
func readLog(t *testing.T, s *ownedServer, token string, q url.Values) []string {
	t.Helper()
	var ids []string
	for range 100 {
		data, next := list(t, s.do(t, "GET", "/api/v1/events?"+q.Encode(), token, nil))
		if len(data) == 0 {
			if next != "" {
				t.Fatalf("empty page: got nextCursor %q, want null", next)
			}
			return ids
		}
		for _, e := range data {
			wantKeys(t, "event", e, "id", "type", "instanceId", "timestamp", "data")
			ids = append(ids, str(e, "id"))
		}
		if next != ids[len(ids)-1] {
			t.Fatalf("nextCursor: got %q, want the page's last id %q", next, ids[len(ids)-1])
		}
		q.Set("after", next)
	}
	t.Fatal("got more than 100 pages")
	return nil
}

func eventReplay(t *testing.T, s *ownedServer, env map[string]string) {
	a, other := s.register(t), s.register(t)
	one, two := str(s.createInstance(t, a.Access, "one"), "id"), str(s.createInstance(t, a.Access, "two"), "id")
	theirs := str(s.createInstance(t, other.Access, "theirs"), "id")
	p := newProducer(t, s, a.Access, one, two)
	q := newProducer(t, s, other.Access, theirs)
	var made []string
	for i := range 7 {
		made = append(made, p.event(t, []string{one, two}[i%2]))
	}
	theirID := q.event(t, theirs)

	// Catching up, whole and in pages; after a cursor.
	if got := readLog(t, s, a.Access, url.Values{}); !slices.Equal(got, made) {
		t.Fatalf("the log: got %v, want %v", got, made)
	}
	if got := readLog(t, s, a.Access, url.Values{"limit": {"3"}}); !slices.Equal(got, made) {
		t.Fatalf("the log by 3: got %v, want %v", got, made)
	}
	if got := readLog(t, s, a.Access, url.Values{"after": {made[2]}, "limit": {"2"}}); !slices.Equal(got, made[3:]) {
		t.Fatalf("after the third: got %v, want %v", got, made[3:])
	}
	// Filters, in the log's order.
	if got := readLog(t, s, a.Access, url.Values{"instanceId": {two}}); !slices.Equal(got, []string{made[1], made[3], made[5]}) {
		t.Fatalf("instance two: got %v", got)
	}
	if got := readLog(t, s, a.Access, url.Values{"types": {"instance.qr,bulk.status"}}); len(got) != 0 {
		t.Fatalf("types without events: got %v, want none", got)
	}
	// An API key reads its own instance only.
	_, key := s.createKey(t, a.Access, one, map[string]any{"name": "reader"})
	if got := readLog(t, s, key, url.Values{}); !slices.Equal(got, []string{made[0], made[2], made[4], made[6]}) {
		t.Fatalf("the key's events: got %v", got)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/events?instanceId="+two, key, nil), http.StatusNotFound, "not_found")

	// Bad input, and the other tenant's ids, tell nothing.
	wantFieldError(t, s.do(t, "GET", "/api/v1/events?limit=501", a.Access, nil), "limit")
	wantFieldError(t, s.do(t, "GET", "/api/v1/events?types=nope", a.Access, nil), "types")
	wantFieldError(t, s.do(t, "GET", "/api/v1/events?after=evt_nope", a.Access, nil), "after")
	wantFieldError(t, s.do(t, "GET", "/api/v1/events?after="+theirID, a.Access, nil), "after")
	wantProblem(t, s.do(t, "GET", "/api/v1/events?instanceId="+theirs, a.Access, nil), http.StatusNotFound, "not_found")
	wantRefused(t, s, "?after="+theirID, bearer(a.Access), http.StatusUnprocessableEntity)

	replaySeam(t, s, p, one, two, made[len(made)-1])

	// Purged: the cursor is gone for good (410), on both routes.
	purgeAll(t, env)
	p.event(t, one) // the log keeps something newer than the cursor
	wantProblem(t, s.do(t, "GET", "/api/v1/events?after="+made[0], a.Access, nil), http.StatusGone, "cursor_expired")
	wantRefused(t, s, "?after="+made[0], bearer(a.Access), http.StatusGone)
}

// replaySeam opens the stream after a cursor while events keep coming:
// it must carry every event of the log after the cursor once, in log
// order, then go on live.
func replaySeam(t *testing.T, s *ownedServer, p *producer, one, two, cursor string) {
	const n = 40
	var wg sync.WaitGroup
	started := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			for i := range n / 2 {
				if w == 0 && i == 5 {
					close(started)
				}
				p.event(t, []string{one, two}[w])
			}
		})
	}
	<-started
	st := openStream(t, s, "?after="+cursor, bearer(p.token))
	wg.Wait()
	last := p.event(t, one)
	st.waitFor(t, 0, "the last event", func(e event) bool { return e.ID == last })
	want := readLog(t, s, p.token, url.Values{"after": {cursor}})
	if len(want) != n+1 {
		t.Fatalf("the log after the cursor: got %d events, want %d", len(want), n+1)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var got []string
	for _, e := range st.events {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the stream: got %d events %v, want the log's %d in order %v", len(got), got, len(want), want)
	}
}

// purgeAll empties the server's event log, as the retention purge does
// once its events are old enough.
func purgeAll(t *testing.T, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := entstore.Open(ctx, entstore.Options{URL: env["WAGATE_DATABASE_URL"], DataDir: env["WAGATE_DATA_DIR"]})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	for {
		n, err := st.EventBacklog().PurgeEvents(ctx, time.Now().Add(time.Hour), 1000)
		if err != nil {
			t.Fatalf("purge: %v", err)
		}
		if n == 0 {
			return
		}
	}
}
