package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsFollower is a realtime client that keeps reading GET /api/v1/events/ws
// through the kills: whenever its connection ends it dials again with
// ?after=<the last event id it saw>, so that the server replays what it
// missed (SPEC §10). It starts with an empty ?after=, the start of the
// log, so it must see the whole log.
type wsFollower struct {
	base, token string

	mu       sync.Mutex
	ids      []string // event ids in arrival order
	connects int
	lastErr  string
}

// follow reads events until ctx ends.
func (f *wsFollower) follow(ctx context.Context) {
	for ctx.Err() == nil {
		err := f.session(ctx)
		f.mu.Lock()
		if err != nil {
			f.lastErr = err.Error()
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // the server is down, or restarting
		}
	}
}

// session is one connection: it dials after the last event seen and
// records every frame until the connection ends.
func (f *wsFollower) session(ctx context.Context) error {
	u := strings.Replace(f.base, "http", "ws", 1) + "/api/v1/events/ws?after=" + url.QueryEscape(f.last())
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(dctx, u, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + f.token}},
	})
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	f.mu.Lock()
	f.connects++
	f.mu.Unlock()
	for {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		var env struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || env.ID == "" {
			return fmt.Errorf("got frame %.200s, want an event envelope", raw)
		}
		f.mu.Lock()
		f.ids = append(f.ids, env.ID)
		f.mu.Unlock()
	}
}

func (f *wsFollower) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ids) == 0 {
		return ""
	}
	return f.ids[len(f.ids)-1]
}

// seen returns how many events arrived.
func (f *wsFollower) seen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids)
}

// check asserts (d): the follower got every event of the log exactly
// once, in position order.
func (f *wsFollower) check(t *testing.T, log []logEvent) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	pos := make(map[string]int64, len(log))
	for _, e := range log {
		pos[e.ID] = e.Position
	}
	got := map[string]int{}
	var prev int64
	disorder, unknown := 0, 0
	for _, id := range f.ids {
		got[id]++
		p, ok := pos[id]
		switch {
		case !ok:
			if unknown++; unknown <= 5 {
				t.Errorf("websocket: got event %s, which is not in the log", id)
			}
		case p <= prev:
			if disorder++; disorder <= 5 {
				t.Errorf("websocket: got event %s (position %d) after position %d, want log order without repeats", id, p, prev)
			}
		default:
			prev = p
		}
	}
	missing := 0
	for _, e := range log {
		if got[e.ID] == 0 {
			if missing++; missing <= 10 {
				t.Errorf("websocket: event %s (position %d, %s) never arrived", e.ID, e.Position, e.Type)
			}
		}
	}
	t.Logf("websocket: %d connections, %d frames for %d events of the log, %d missing, %d out of order or repeated, %d unknown (last error: %s)",
		f.connects, len(f.ids), len(log), missing, disorder, unknown, orNone(f.lastErr))
}
