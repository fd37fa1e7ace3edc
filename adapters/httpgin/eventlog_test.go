package httpgin

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// appendEvents appends n instance.status events of inst to the log.
func (s *streamEnv) appendEvents(t *testing.T, sub ports.SubscriptionID, inst string, n int) []ports.Event {
	t.Helper()
	var out []ports.Event
	for range n {
		e := ports.Event{ID: "evt_" + uuidIDs{}.NewID(), Type: ports.EventInstanceStatus, SubscriptionID: sub,
			InstanceID: ports.InstanceID(inst), At: time.Now().UTC().Truncate(time.Microsecond),
			Data: eventData(t, ports.InstanceStatusData{Status: ports.StatusConnected})}
		pos, err := s.store.Stores().Events.AppendEvent(t.Context(), e)
		if err != nil {
			t.Fatal(err)
		}
		e.Position = pos
		out = append(out, e)
	}
	return out
}

func TestListEvents(t *testing.T) {
	s := newStreamEnv(t)
	access, _ := s.account("log@example.com")
	inst := s.instanceOf(access, "one")
	_, f := s.open(t, "", access)

	var page struct {
		Data       []map[string]any `json:"data"`
		NextCursor *string          `json:"nextCursor"`
	}
	w := s.do(req{method: "GET", path: "/api/v1/events", token: access})
	decodeBody(t, w, &page)
	if w.Code != http.StatusOK || page.Data == nil || len(page.Data) != 0 || page.NextCursor != nil {
		t.Fatalf("empty log: got %d %s, want 200 with data [] and nextCursor null", w.Code, w.Body)
	}
	evs := s.appendEvents(t, f.SubscriptionID, inst.ID, 3)
	w = s.do(req{method: "GET", path: "/api/v1/events?limit=2&after=" + evs[0].ID, token: access})
	decodeBody(t, w, &page)
	if len(page.Data) != 2 || page.Data[0]["id"] != evs[1].ID || page.NextCursor == nil || *page.NextCursor != evs[2].ID {
		t.Fatalf("page after the first: got %s, want the second and third, nextCursor the third", w.Body)
	}
	want, _ := json.Marshal(map[string]any{"id": evs[1].ID, "type": "instance.status", "instanceId": inst.ID,
		"timestamp": evs[1].At.Format(time.RFC3339Nano), "data": map[string]any{"status": "connected", "previousStatus": nil, "reason": nil}})
	if got, _ := json.Marshal(page.Data[0]); string(got) != string(want) {
		t.Fatalf("envelope: got %s, want %s", got, want)
	}
	wantProblem(t, s.do(req{method: "GET", path: "/api/v1/events?limit=0", token: access}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(req{method: "GET", path: "/api/v1/events?after=evt_unknown", token: access}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(req{method: "GET", path: "/api/v1/events?instanceId=nope", token: access}), http.StatusNotFound, "not_found")
}

// TestStreamReplays: ?after= replays the log, then goes on live without
// repeating what the replay wrote, and fills a jump from the log.
func TestStreamReplays(t *testing.T) {
	s := newStreamEnv(t)
	access, _ := s.account("replay@example.com")
	inst := s.instanceOf(access, "one")
	_, live := s.open(t, "", access)
	evs := s.appendEvents(t, live.SubscriptionID, inst.ID, 3)
	c, f := s.open(t, "?after="+evs[0].ID, access)
	if f.InstanceID != "" || len(f.Types) != 0 {
		t.Fatalf("bus filter: got %+v, want the whole subscription", f)
	}
	more := s.appendEvents(t, live.SubscriptionID, inst.ID, 3)
	// The bus repeats the third and brings the sixth before the others.
	for _, e := range []ports.Event{evs[2], more[2]} {
		if err := s.bus.Publish(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []ports.Event{evs[1], evs[2], more[0], more[1], more[2]} {
		if got := readEvent(t, c); got["id"] != want.ID {
			t.Fatalf("got %v, want %s (position %d)", got["id"], want.ID, want.Position)
		}
	}
}

func TestCursorExpiredIsGone(t *testing.T) {
	p, _ := problemFor(ports.ReasonError(ports.ENotFound, "cursor_expired", "gone"))
	if p.Status != http.StatusGone || p.Code != "cursor_expired" {
		t.Fatalf("got %d %s, want 410 cursor_expired", p.Status, p.Code)
	}
}
