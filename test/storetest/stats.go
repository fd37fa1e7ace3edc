package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// StatsBackend is what RunStats exercises.
type StatsBackend interface {
	ports.TxRunner
	Stores() ports.Stores
}

// RunStats runs the conformance suite of ports.StatsStore. open is called
// once per test and must return an empty, migrated backend of its own.
func RunStats(t *testing.T, open func(t *testing.T) StatsBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b StatsBackend)
	}{
		{"AddAndQuery", testStatsAddQuery},
		{"ConcurrentAdds", testStatsConcurrent},
		{"RollbackDropsIncrement", testStatsRollback},
		{"NoSubscriptionNoRow", testStatsClosedSubscription},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var statsDay1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// statsSubscription creates a subscription: counters are kept only for
// one that exists.
func statsSubscription(t *testing.T, b StatsBackend) ports.SubscriptionID {
	t.Helper()
	s := ports.Subscription{ID: ports.SubscriptionID(newID()), Tier: ports.TierBasic, CreatedAt: base, UpdatedAt: base}
	if err := b.Stores().Subscriptions.CreateSubscription(t.Context(), s); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	return s.ID
}

func testStatsAddQuery(t *testing.T, b StatsBackend) {
	ctx := t.Context()
	st := b.Stores().Stats
	subA, subB := statsSubscription(t, b), statsSubscription(t, b)
	add := func(sub ports.SubscriptionID, inst ports.InstanceID, day time.Time, c ports.Counters) {
		t.Helper()
		if err := st.AddStats(ctx, sub, inst, day, c); err != nil {
			t.Fatalf("add stats: %v", err)
		}
	}
	// A time late in the day and in another zone lands on its UTC date.
	late := time.Date(2026, 3, 1, 23, 59, 0, 0, time.FixedZone("X", -3600)) // 2 March UTC
	add(subA, "inst_1", statsDay1.Add(13*time.Hour), ports.Counters{Sent: 1, Failed: 2})
	add(subA, "inst_1", statsDay1, ports.Counters{Sent: 3, APICalls: 4})
	add(subA, "inst_2", statsDay1, ports.Counters{Delivered: 5, Read: 6, Received: 7})
	add(subA, "", statsDay1, ports.Counters{APICalls: 8})
	add(subA, "inst_1", late, ports.Counters{Sent: 9})
	add(subA, "inst_1", statsDay1.AddDate(0, 0, 10), ports.Counters{Sent: 100}) // out of range
	add(subB, "inst_9", statsDay1, ports.Counters{Sent: 1000})                  // another tenant
	add(subA, "inst_1", statsDay1, ports.Counters{})                            // nothing

	day2 := statsDay1.AddDate(0, 0, 1)
	got, err := st.QueryStats(ctx, subA, "", statsDay1, day2.Add(5*time.Hour))
	if err != nil {
		t.Fatalf("query stats: %v", err)
	}
	want := []ports.DayStats{
		{Day: statsDay1, Counters: ports.Counters{Sent: 4, Failed: 2, Delivered: 5, Read: 6, Received: 7, APICalls: 12}},
		{Day: day2, Counters: ports.Counters{Sent: 9}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query all instances (-want +got):\n%s", diff)
	}
	got, err = st.QueryStats(ctx, subA, "inst_2", statsDay1, day2)
	if err != nil {
		t.Fatalf("query one instance: %v", err)
	}
	want = []ports.DayStats{{Day: statsDay1, Counters: ports.Counters{Delivered: 5, Read: 6, Received: 7}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query inst_2 (-want +got):\n%s", diff)
	}
	got, err = st.QueryStats(ctx, "sub_c", "", statsDay1, day2)
	if err != nil || len(got) != 0 {
		t.Errorf("query a tenant without rows: got %v, %v; want none", got, err)
	}
}

// testStatsConcurrent: 20 writers adding 10 times each to one row must
// leave exactly 200, whatever the database does with concurrent upserts.
func testStatsConcurrent(t *testing.T, b StatsBackend) {
	ctx := t.Context()
	st := b.Stores().Stats
	sub := statsSubscription(t, b)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 20 {
		wg.Go(func() {
			for range 10 {
				errs <- st.AddStats(ctx, sub, "inst_1", statsDay1, ports.Counters{Sent: 1, APICalls: 2})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("add stats: %v", err)
		}
	}
	got, err := st.QueryStats(ctx, sub, "inst_1", statsDay1, statsDay1)
	if err != nil {
		t.Fatalf("query stats: %v", err)
	}
	want := []ports.DayStats{{Day: statsDay1, Counters: ports.Counters{Sent: 200, APICalls: 400}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after 20×10 concurrent adds (-want +got):\n%s", diff)
	}
}

// testStatsRollback: an increment made in a transaction that rolls back
// is gone, which is what lets a status move and its count commit together.
func testStatsRollback(t *testing.T, b StatsBackend) {
	ctx := t.Context()
	sub := statsSubscription(t, b)
	err := b.InTx(ctx, func(ctx context.Context, s ports.Stores) error {
		if err := s.Stats.AddStats(ctx, sub, "inst_1", statsDay1, ports.Counters{Read: 1}); err != nil {
			return err
		}
		return ports.Errorf(ports.EConflict, "abort")
	})
	if !ports.IsCode(err, ports.EConflict) {
		t.Fatalf("transaction: got %v, want the closure's conflict", err)
	}
	got, err := b.Stores().Stats.QueryStats(ctx, sub, "inst_1", statsDay1, statsDay1)
	if err != nil || len(got) != 0 {
		t.Errorf("after rollback: got %v, %v; want no rows", got, err)
	}
}

// testStatsClosedSubscription: counts for a subscription that does not
// exist (closed, or never made) write nothing, so a flush that comes
// after an account was closed leaves no row of it.
func testStatsClosedSubscription(t *testing.T, b StatsBackend) {
	ctx := t.Context()
	gone := ports.SubscriptionID(newID())
	if err := b.Stores().Stats.AddStats(ctx, gone, "inst_1", statsDay1, ports.Counters{APICalls: 1}); err != nil {
		t.Fatalf("add stats of a missing subscription: got %v, want no error", err)
	}
	got, err := b.Stores().Stats.QueryStats(ctx, gone, "", statsDay1, statsDay1)
	if err != nil || len(got) != 0 {
		t.Errorf("a missing subscription's stats: got %v, %v; want no rows", got, err)
	}
}
