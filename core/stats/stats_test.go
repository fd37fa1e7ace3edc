package stats_test

import (
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/stats"
	"github.com/wagate/wagate/ports"
)

type env struct {
	store *coretest.Store
	clock *coretest.Clock
	svc   *stats.Service
	user  ports.Principal // owner of sub A
	other ports.Principal // owner of sub B
	key   ports.Principal // API key of inst1
	inst1 ports.InstanceID
	inst2 ports.InstanceID
	instB ports.InstanceID // sub B's
}

// day is a date of the test clock's year.
func day(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(err)
	}
	return t
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock()} // 2025-01-02
	ids := &coretest.IDs{}
	e.svc = stats.New(stats.Deps{Stats: e.store.Stores().Stats, Instances: e.store.Stores().Instances, Clock: e.clock})
	e.user = e.store.SeedAccount(ids, e.clock, ports.TierBasic, "a@example.com")
	e.other = e.store.SeedAccount(ids, e.clock, ports.TierBasic, "b@example.com")
	mk := func(p ports.Principal, name string) ports.InstanceID {
		id := ports.InstanceID(ids.NewID())
		err := e.store.Stores().Instances.CreateInstance(t.Context(), p.SubscriptionID, ports.Instance{
			ID: id, SubscriptionID: p.SubscriptionID, Name: name, Status: ports.StatusConnected, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e.inst1, e.inst2, e.instB = mk(e.user, "one"), mk(e.user, "two"), mk(e.other, "b")
	e.key = ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.user.SubscriptionID, InstanceID: e.inst1, Scopes: ports.AllScopes}
	st := e.store.Stores().Stats
	for _, r := range []struct {
		p    ports.Principal
		inst ports.InstanceID
		day  string
		c    ports.Counters
	}{
		{e.user, e.inst1, "2025-01-01", ports.Counters{Sent: 1, Delivered: 1}},
		{e.user, e.inst2, "2025-01-01", ports.Counters{Failed: 2}},
		{e.user, e.inst1, "2024-12-30", ports.Counters{Read: 3, Received: 4}},
		{e.user, "", "2025-01-02", ports.Counters{APICalls: 5}},
		{e.other, e.instB, "2025-01-01", ports.Counters{Sent: 100}},
	} {
		if err := st.AddStats(t.Context(), r.p.SubscriptionID, r.inst, day(r.day), r.c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name     string
		who      func(e *env) ports.Principal
		q        func(e *env) stats.Query
		from, to string
		days     int
		totals   ports.Counters
		code     ports.ErrorCode
	}{
		{"user, defaults: last 30 days to today", func(e *env) ports.Principal { return e.user }, func(*env) stats.Query { return stats.Query{} },
			"2024-12-04", "2025-01-02", 30, ports.Counters{Sent: 1, Delivered: 1, Failed: 2, Read: 3, Received: 4, APICalls: 5}, ""},
		{"user, one instance", func(e *env) ports.Principal { return e.user },
			func(e *env) stats.Query {
				return stats.Query{InstanceID: e.inst1, From: "2024-12-30", To: "2025-01-01"}
			},
			"2024-12-30", "2025-01-01", 3, ports.Counters{Sent: 1, Delivered: 1, Read: 3, Received: 4}, ""},
		{"user, one day", func(e *env) ports.Principal { return e.user },
			func(*env) stats.Query { return stats.Query{From: "2025-01-01", To: "2025-01-01"} },
			"2025-01-01", "2025-01-01", 1, ports.Counters{Sent: 1, Delivered: 1, Failed: 2}, ""},
		{"only to: 30 days up to it", func(e *env) ports.Principal { return e.user },
			func(*env) stats.Query { return stats.Query{To: "2024-12-31"} },
			"2024-12-02", "2024-12-31", 30, ports.Counters{Read: 3, Received: 4}, ""},
		{"range of 366 days", func(e *env) ports.Principal { return e.user },
			func(*env) stats.Query { return stats.Query{From: "2024-01-02", To: "2025-01-01"} },
			"2024-01-02", "2025-01-01", 366, ports.Counters{Sent: 1, Delivered: 1, Failed: 2, Read: 3, Received: 4}, ""},
		{"API key: its own instance", func(e *env) ports.Principal { return e.key },
			func(*env) stats.Query { return stats.Query{From: "2025-01-01", To: "2025-01-02"} },
			"2025-01-01", "2025-01-02", 2, ports.Counters{Sent: 1, Delivered: 1}, ""},
		{"another tenant's instance", func(e *env) ports.Principal { return e.user },
			func(e *env) stats.Query { return stats.Query{InstanceID: e.instB} }, "", "", 0, ports.Counters{}, ports.ENotFound},
		{"API key naming another instance", func(e *env) ports.Principal { return e.key },
			func(e *env) stats.Query { return stats.Query{InstanceID: e.inst2} }, "", "", 0, ports.Counters{}, ports.ENotFound},
		{"API key without messages:read", func(e *env) ports.Principal {
			p := e.key
			p.Scopes = []ports.Scope{ports.ScopeMessagesSend}
			return p
		}, func(*env) stats.Query { return stats.Query{} }, "", "", 0, ports.Counters{}, ports.EForbidden},
		{"bad date", func(e *env) ports.Principal { return e.user },
			func(*env) stats.Query { return stats.Query{From: "2025-13-01"} }, "", "", 0, ports.Counters{}, ports.EInvalid},
		{"from after to", func(e *env) ports.Principal { return e.user },
			func(*env) stats.Query { return stats.Query{From: "2025-01-02", To: "2025-01-01"} }, "", "", 0, ports.Counters{}, ports.EInvalid},
		{"range of 367 days", func(e *env) ports.Principal { return e.user },
			func(*env) stats.Query { return stats.Query{From: "2024-01-01", To: "2025-01-01"} }, "", "", 0, ports.Counters{}, ports.EInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r, err := e.svc.Query(t.Context(), tc.who(e), tc.q(e))
			if tc.code != "" {
				if !ports.IsCode(err, tc.code) {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if got := r.From.Format(time.DateOnly) + ".." + r.To.Format(time.DateOnly); got != tc.from+".."+tc.to {
				t.Errorf("got range %s, want %s..%s", got, tc.from, tc.to)
			}
			if len(r.Days) != tc.days {
				t.Errorf("got %d days, want %d", len(r.Days), tc.days)
			}
			for i, d := range r.Days {
				if want := r.From.AddDate(0, 0, i); !d.Day.Equal(want) {
					t.Fatalf("day %d: got %s, want %s", i, d.Day, want)
				}
			}
			if r.Totals != tc.totals {
				t.Errorf("got totals %+v, want %+v", r.Totals, tc.totals)
			}
		})
	}
}

func TestAPICallsFlushedInBatches(t *testing.T) {
	e := newEnv(t)
	fresh := e.store.SeedAccount(&coretest.IDs{Prefix: "fresh-"}, e.clock, ports.TierBasic, "fresh@example.com").SubscriptionID
	for range 7 {
		e.svc.CountAPICall(fresh, "inst_x")
	}
	e.svc.CountAPICall(fresh, "")
	writes := 0
	e.store.Hook = func(m string) error {
		if m == "AddStats" {
			writes++
		}
		return nil
	}
	if err := e.svc.Flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if writes != 2 {
		t.Errorf("got %d writes for two rows, want 2", writes)
	}
	if got := apiCalls(t, e, fresh, ""); got != 8 {
		t.Errorf("got %d API calls, want 8", got)
	}
	if err := e.svc.Flush(t.Context()); err != nil || writes != 2 {
		t.Errorf("an empty flush: got %v with %d writes, want nothing written", err, writes)
	}
}

func TestAPICallsKeptWhenFlushFails(t *testing.T) {
	e := newEnv(t)
	fresh := e.store.SeedAccount(&coretest.IDs{Prefix: "fresh-"}, e.clock, ports.TierBasic, "fresh@example.com").SubscriptionID
	e.svc.CountAPICall(fresh, "inst_x")
	e.svc.CountAPICall(fresh, "inst_y")
	e.store.Hook = func(m string) error {
		if m == "AddStats" {
			return ports.Errorf(ports.EUnavailable, "database gone")
		}
		return nil
	}
	if err := e.svc.Flush(t.Context()); err == nil {
		t.Fatal("flush with the database failing: got nil, want an error")
	}
	e.store.Hook = nil
	e.svc.CountAPICall(fresh, "inst_x")
	if err := e.svc.Flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if got := apiCalls(t, e, fresh, ""); got != 3 {
		t.Errorf("got %d API calls, want 3 (none lost)", got)
	}
}

func apiCalls(t *testing.T, e *env, sub ports.SubscriptionID, inst ports.InstanceID) int64 {
	t.Helper()
	rows, err := e.store.Stores().Stats.QueryStats(t.Context(), sub, inst, e.clock.Now(), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range rows {
		n += r.APICalls
	}
	return n
}
