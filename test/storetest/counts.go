package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// CountsBackend is a Backend that also counts rows system-wide for
// metrics.
type CountsBackend interface {
	Backend
	StatusCounts() ports.StatusCounts
}

// RunStatusCounts runs the conformance tests of ports.StatusCounts. open
// is called once per test and must return an empty, migrated backend of
// its own, closed when t ends.
func RunStatusCounts(t *testing.T, open func(t *testing.T) CountsBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, c ports.StatusCounts)
	}{
		{"Empty", testCountsEmpty},
		{"Instances", testCountInstances},
		{"Messages", testCountMessages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.StatusCounts())
		})
	}
}

func testCountsEmpty(t *testing.T, f *fixture, c ports.StatusCounts) {
	inst, err := c.CountInstancesByStatus(f.ctx)
	if err != nil || len(inst) != 0 {
		t.Errorf("instances of an empty store: got %v, %v, want none", inst, err)
	}
	msgs, err := c.CountMessagesByStatus(f.ctx, ports.MsgQueued, ports.MsgSending)
	if err != nil || len(msgs) != 0 {
		t.Errorf("messages of an empty store: got %v, %v, want none", msgs, err)
	}
}

// testCountInstances: every subscription's instances count, by status.
func testCountInstances(t *testing.T, f *fixture, c ports.StatusCounts) {
	a, b := f.subscription(), f.subscription()
	f.instanceIn(a.ID, "one", ports.StatusConnected, base)
	f.instanceIn(a.ID, "two", ports.StatusConnected, base)
	f.instanceIn(a.ID, "three", ports.StatusDisconnected, base)
	f.instanceIn(b.ID, "one", ports.StatusConnected, base)
	f.instanceIn(b.ID, "two", ports.StatusCreated, base)
	got, err := c.CountInstancesByStatus(f.ctx)
	if err != nil {
		t.Fatalf("count instances: %v", err)
	}
	want := map[ports.InstanceStatus]int{ports.StatusConnected: 3, ports.StatusDisconnected: 1, ports.StatusCreated: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instances by status (-want +got):\n%s", diff)
	}
}

// testCountMessages: only the statuses asked for count, across
// subscriptions.
func testCountMessages(t *testing.T, f *fixture, c ports.StatusCounts) {
	a, b := f.subscription(), f.subscription()
	ia, ib := f.instance(a.ID, "a"), f.instance(b.ID, "b")
	status := func(st ports.MessageStatus) func(*ports.Message) {
		return func(m *ports.Message) { m.Status = st }
	}
	f.message(ia, base, nil)
	f.message(ia, base, nil)
	f.message(ib, base, nil)
	f.message(ia, base, status(ports.MsgSending))
	f.message(ib, base, status(ports.MsgDelivered))
	f.message(ib, base, status(ports.MsgRead))

	got, err := c.CountMessagesByStatus(f.ctx, ports.MsgQueued, ports.MsgSending, ports.MsgFailed)
	if err != nil {
		t.Fatalf("count messages: %v", err)
	}
	want := map[ports.MessageStatus]int{ports.MsgQueued: 3, ports.MsgSending: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queued, sending and failed messages (-want +got):\n%s", diff)
	}
	got, err = c.CountMessagesByStatus(f.ctx, ports.MsgDelivered)
	if err != nil || !cmp.Equal(got, map[ports.MessageStatus]int{ports.MsgDelivered: 1}) {
		t.Errorf("delivered messages: got %v, %v, want delivered:1", got, err)
	}
	got, err = c.CountMessagesByStatus(f.ctx)
	if err != nil || len(got) != 0 {
		t.Errorf("no statuses: got %v, %v, want an empty map", got, err)
	}
}
