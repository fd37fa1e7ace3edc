package events_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// idTimes is a hand-written ports.IDTimer: the ids it knows are
// "<unix ms>-<anything>".
type idTimes struct{}

func (idTimes) TimeOf(id string) (time.Time, bool) {
	ms, _, ok := strings.Cut(id, "-")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(n).UTC(), true
}

// eventID is an id idTimes reads as made at t.
func eventID(t time.Time, tag string) string {
	return "evt_" + strconv.FormatInt(t.UnixMilli(), 10) + "-" + tag
}

type feedEnv struct {
	t     *testing.T
	ctx   context.Context
	store *coretest.Store
	clock *coretest.Clock
	feed  *events.Feed
	n     int
}

const retention = 24 * time.Hour

func newFeedEnv(t *testing.T) *feedEnv {
	store, clock := coretest.NewStore(), coretest.NewClock()
	feed := events.NewFeed(events.FeedDeps{
		Stores: store.Stores(), Reader: store.EventReader(), Clock: clock, IDTimes: idTimes{}, Retention: retention,
	})
	return &feedEnv{t: t, ctx: t.Context(), store: store, clock: clock, feed: feed}
}

// appendEvent appends an event of sub/inst of type typ, made now.
func (e *feedEnv) appendEvent(sub ports.SubscriptionID, inst ports.InstanceID, typ ports.EventType) ports.Event {
	e.t.Helper()
	e.n++
	ev := ports.Event{ID: eventID(e.clock.Now(), strconv.Itoa(e.n)), Type: typ, SubscriptionID: sub, InstanceID: inst,
		At: e.clock.Now(), Data: json.RawMessage(`{}`)}
	pos, err := e.store.Stores().Events.AppendEvent(e.ctx, ev)
	if err != nil {
		e.t.Fatalf("append: %v", err)
	}
	ev.Position = pos
	e.clock.Advance(time.Second)
	return ev
}

func TestPosition(t *testing.T) {
	e := newFeedEnv(t)
	first := e.appendEvent("sub-a", "i1", ports.EventMessageStatus)
	second := e.appendEvent("sub-a", "i1", ports.EventMessageStatus)
	theirs := e.appendEvent("sub-b", "i2", ports.EventMessageStatus)
	e.clock.Advance(time.Hour)
	// Purge the first: the log keeps from the second on.
	if _, err := e.store.EventBacklog().PurgeEvents(e.ctx, first.At.Add(time.Millisecond), 10); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	tests := []struct {
		name, after string
		want        int64
		code        ports.ErrorCode
		reason      string
	}{
		{"none", "", 0, "", ""},
		{"own event", second.ID, 2, "", ""},
		{"not an event id", "msg_1", 0, ports.EInvalid, ""},
		{"too long", "evt_" + strings.Repeat("x", 80), 0, ports.EInvalid, ""},
		{"unknown, recent", eventID(now, "x"), 0, ports.EInvalid, ""},
		{"unknown, without a time", "evt_nonsense", 0, ports.EInvalid, ""},
		{"another subscription's, recent", theirs.ID, 0, ports.EInvalid, ""},
		{"purged", first.ID, 0, ports.ENotFound, "cursor_expired"},
		{"older than the retention", eventID(now.Add(-retention-time.Minute), "x"), 0, ports.ENotFound, "cursor_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.feed.Position(e.ctx, "sub-a", tt.after)
			pe := ports.AsError(err)
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("got %v, want position %d", err, tt.want)
			case tt.code == "" && got != tt.want:
				t.Fatalf("got position %d, want %d", got, tt.want)
			case tt.code != "" && (pe == nil || pe.Code != tt.code || pe.Reason != tt.reason):
				t.Fatalf("got %v, want code %s reason %q", err, tt.code, tt.reason)
			case tt.code == ports.EInvalid && (len(pe.Fields) != 1 || pe.Fields[0].Field != "after"):
				t.Fatalf("got fields %+v, want one on after", pe.Fields)
			}
		})
	}
}

// TestPositionAllPurged: a subscription whose every event was purged
// tells any past id of its own time as expired.
func TestPositionAllPurged(t *testing.T) {
	e := newFeedEnv(t)
	old := e.appendEvent("sub-a", "i1", ports.EventMessageStatus)
	if _, err := e.store.EventBacklog().PurgeEvents(e.ctx, e.clock.Now(), 10); err != nil {
		t.Fatal(err)
	}
	_, err := e.feed.Position(e.ctx, "sub-a", old.ID)
	if pe := ports.AsError(err); pe == nil || pe.Reason != "cursor_expired" {
		t.Fatalf("got %v, want cursor_expired", err)
	}
	// A subscription that never had events cannot have had the id.
	_, err = e.feed.Position(e.ctx, "sub-new", old.ID)
	if !ports.IsCode(err, ports.EInvalid) {
		t.Fatalf("never had events: got %v, want a 422 on after", err)
	}
}

func TestFilter(t *testing.T) {
	e := newFeedEnv(t)
	if err := e.store.Stores().Subscriptions.CreateSubscription(e.ctx, ports.Subscription{ID: "sub-a", Tier: ports.TierBasic}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Stores().Instances.CreateInstance(e.ctx, "sub-a", ports.Instance{ID: "i1", SubscriptionID: "sub-a", Name: "one"}); err != nil {
		t.Fatal(err)
	}
	user := ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: "sub-a"}
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: "sub-a", InstanceID: "i1", Scopes: []ports.Scope{ports.ScopeMessagesRead}}
	sendOnly := key
	sendOnly.Scopes = []ports.Scope{ports.ScopeMessagesSend}
	tests := []struct {
		name     string
		p        ports.Principal
		inst     ports.InstanceID
		wantInst ports.InstanceID
		code     ports.ErrorCode
	}{
		{"user, every instance", user, "", "", ""},
		{"user, own instance", user, "i1", "i1", ""},
		{"user, unknown instance", user, "i9", "", ports.ENotFound},
		{"key: its own instance only", key, "", "i1", ""},
		{"key, another instance", key, "i9", "", ports.ENotFound},
		{"key without messages:read", sendOnly, "", "", ports.EForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := e.feed.Filter(e.ctx, tt.p, tt.inst, nil)
			if tt.code != "" {
				if !ports.IsCode(err, tt.code) {
					t.Fatalf("got %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || f.InstanceID != tt.wantInst || f.SubscriptionID != "sub-a" {
				t.Fatalf("got %+v, %v; want instance %q of sub-a", f, err, tt.wantInst)
			}
		})
	}
}

func TestReadLimit(t *testing.T) {
	e := newFeedEnv(t)
	user := ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: "sub-a"}
	for range 3 {
		e.appendEvent("sub-a", "i1", ports.EventMessageStatus)
	}
	got, err := e.feed.Read(e.ctx, user, events.Query{Limit: 2})
	if err != nil || len(got) != 2 || got[1].Position != 2 {
		t.Fatalf("got %d events, %v; want positions 1 and 2", len(got), err)
	}
	got, err = e.feed.Read(e.ctx, user, events.Query{After: got[1].ID, Limit: 2})
	if err != nil || len(got) != 1 || got[0].Position != 3 {
		t.Fatalf("second page: got %v, %v; want position 3", got, err)
	}
	for _, limit := range []int{0, events.MaxListLimit + 1} {
		if _, err := e.feed.Read(e.ctx, user, events.Query{Limit: limit}); !ports.IsCode(err, ports.EInvalid) {
			t.Fatalf("limit %d: got %v, want EInvalid", limit, err)
		}
	}
}
