package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// EventBackend is a Backend that also offers the system-level view of the
// event log.
type EventBackend interface {
	Backend
	EventBacklog() ports.EventBacklog
	EventReader() ports.EventReader
}

// RunEvents runs the conformance tests of ports.EventStore and
// ports.EventBacklog. open is called once per test and must return an
// empty, migrated backend of its own, closed when t ends.
func RunEvents(t *testing.T, open func(t *testing.T) EventBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, bl ports.EventBacklog)
	}{
		{"AppendAndList", testEventAppendList},
		{"AppendRollsBack", testEventAppendRollsBack},
		{"SubscriptionsApart", testEventIsolation},
		{"ConcurrentAppends", testEventConcurrentAppends},
		{"AppendsOfOneTransaction", testEventsOfOneTransaction},
		{"ManyAppendsOfOneTransaction", testManyEventsOfOneTransaction},
		{"Cursor", testEventCursor},
		{"Purge", testEventPurge},
		{"OneDeliveryPerEndpoint", testDeliveryPerEventEndpoint},
		{"ReadFiltered", testEventReadFiltered},
		{"ReadOne", testEventReadOne},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.EventBacklog())
		})
	}
}

func newEvent(inst ports.Instance, at time.Time) ports.Event {
	return ports.Event{
		ID: "evt_" + newID(), Type: ports.EventMessageStatus, SubscriptionID: inst.SubscriptionID,
		InstanceID: inst.ID, At: at, Data: json.RawMessage(`{"messageId":"m1","status":"sent"}`),
	}
}

// appendEvent appends an event of inst at the given time through the
// stores outside a transaction and returns it as stored.
func (f *fixture) appendEvent(inst ports.Instance, at time.Time) ports.Event {
	f.t.Helper()
	e := newEvent(inst, at)
	pos, err := f.s.Events.AppendEvent(f.ctx, e)
	if err != nil {
		f.t.Fatalf("append event: %v", err)
	}
	e.Position, e.At = pos, at.UTC().Truncate(time.Microsecond)
	return e
}

func testEventAppendList(t *testing.T, f *fixture, _ ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	var want []ports.Event
	for i := range 5 {
		want = append(want, f.appendEvent(inst, base.Add(time.Duration(i)*time.Second)))
	}
	for i, e := range want {
		if e.Position != int64(i+1) {
			t.Fatalf("position of event %d: got %d, want %d", i, e.Position, i+1)
		}
	}
	got, err := f.s.Events.ListEventsAfter(f.ctx, inst.SubscriptionID, 0, 100)
	mustOK(t, "list events", err)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	got, err = f.s.Events.ListEventsAfter(f.ctx, inst.SubscriptionID, 2, 2)
	mustOK(t, "list events after 2", err)
	if diff := cmp.Diff(want[2:4], got); diff != "" {
		t.Fatalf("events after 2, limit 2 (-want +got):\n%s", diff)
	}
	dup := newEvent(inst, base)
	dup.ID = want[0].ID
	_, err = f.s.Events.AppendEvent(f.ctx, dup)
	wantErr(t, "append a duplicate id", err, ports.EConflict, "")
}

// testEventAppendRollsBack: an event appended in a transaction that fails
// leaves nothing, not even its position.
func testEventAppendRollsBack(t *testing.T, f *fixture, bl ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	boom := errors.New("boom")
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		if _, err := s.Events.AppendEvent(ctx, newEvent(inst, base)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rollback: got %v, want the fn's error", err)
	}
	got, err := f.s.Events.ListEventsAfter(f.ctx, inst.SubscriptionID, 0, 10)
	mustOK(t, "list events", err)
	if len(got) != 0 {
		t.Fatalf("events after rollback: got %d, want 0", len(got))
	}
	subs, err := bl.ListUndispatched(f.ctx, 10)
	mustOK(t, "list undispatched", err)
	if len(subs) != 0 {
		t.Fatalf("undispatched after rollback: got %v, want none", subs)
	}
	if e := f.appendEvent(inst, base); e.Position != 1 {
		t.Fatalf("position after a rollback: got %d, want 1", e.Position)
	}
}

func testEventIsolation(t *testing.T, f *fixture, _ ports.EventBacklog) {
	a := f.instance(f.subscription().ID, "a")
	b := f.instance(f.subscription().ID, "b")
	ea := f.appendEvent(a, base)
	eb := f.appendEvent(b, base)
	f.appendEvent(a, base)
	if ea.Position != 1 || eb.Position != 1 {
		t.Fatalf("first positions: got %d and %d, want 1 each: positions are per subscription", ea.Position, eb.Position)
	}
	got, err := f.s.Events.ListEventsAfter(f.ctx, b.SubscriptionID, 0, 10)
	mustOK(t, "list b's events", err)
	if diff := cmp.Diff([]ports.Event{eb}, got); diff != "" {
		t.Fatalf("b's events (-want +got):\n%s", diff)
	}
	c, err := f.s.Events.GetEventCursor(f.ctx, a.SubscriptionID)
	mustOK(t, "a's cursor", err)
	if c != (ports.EventCursor{Appended: 2}) {
		t.Fatalf("a's cursor: got %+v, want appended 2, dispatched 0", c)
	}
}

// testEventConcurrentAppends: transactions appending at once get
// positions 1..n, each once.
func testEventConcurrentAppends(t *testing.T, f *fixture, _ ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
				_, err := s.Events.AppendEvent(ctx, newEvent(inst, base))
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustOK(t, "append", err)
	}
	got, err := f.s.Events.ListEventsAfter(f.ctx, inst.SubscriptionID, 0, 100)
	mustOK(t, "list events", err)
	for i, e := range got {
		if e.Position != int64(i+1) {
			t.Fatalf("position %d: got %d, want %d", i, e.Position, i+1)
		}
	}
	if len(got) != n {
		t.Fatalf("events: got %d, want %d", len(got), n)
	}
}

// testEventsOfOneTransaction: the events a transaction appends, to two
// subscriptions in turn, take their subscriptions' next positions in the
// order they were appended; a duplicate id among them fails the
// transaction, which leaves none of them.
func testEventsOfOneTransaction(t *testing.T, f *fixture, _ ports.EventBacklog) {
	a := f.instance(f.subscription().ID, "a")
	b := f.instance(f.subscription().ID, "b")
	first := f.appendEvent(a, base)
	var appended []ports.Event
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		for i, inst := range []ports.Instance{a, b, a, a, b} {
			e := newEvent(inst, base.Add(time.Duration(i)*time.Second))
			if _, err := s.Events.AppendEvent(ctx, e); err != nil {
				return err
			}
			appended = append(appended, e)
		}
		return nil
	})
	mustOK(t, "append in one transaction", err)
	wantIDs := map[ports.SubscriptionID][]string{
		a.SubscriptionID: {first.ID, appended[0].ID, appended[2].ID, appended[3].ID},
		b.SubscriptionID: {appended[1].ID, appended[4].ID},
	}
	for sub, want := range wantIDs {
		got, err := f.s.Events.ListEventsAfter(f.ctx, sub, 0, 10)
		mustOK(t, "list events", err)
		var ids []string
		for i, e := range got {
			if e.Position != int64(i+1) {
				t.Fatalf("%s: position %d is %d", sub, i+1, e.Position)
			}
			ids = append(ids, e.ID)
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Fatalf("%s's events in position order (-want +got):\n%s", sub, diff)
		}
	}
	err = f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		if _, err := s.Events.AppendEvent(ctx, newEvent(b, base)); err != nil {
			return err
		}
		_, err := s.Events.AppendEvent(ctx, appended[1]) // b's, stored already
		return err
	})
	wantErr(t, "a transaction appending a duplicate id", err, ports.EConflict, "")
	c, err := f.s.Events.GetEventCursor(f.ctx, b.SubscriptionID)
	mustOK(t, "b's cursor", err)
	if c.Appended != 2 {
		t.Fatalf("b's cursor after the failed transaction: appended %d, want 2", c.Appended)
	}
}

// testManyEventsOfOneTransaction: more events than one insert takes, in
// one transaction, are stored at positions 1..n in append order.
func testManyEventsOfOneTransaction(t *testing.T, f *fixture, _ ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	const n = 1201
	ids := make([]string, n)
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		for i := range n {
			e := newEvent(inst, base)
			ids[i] = e.ID
			if _, err := s.Events.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	mustOK(t, "append in one transaction", err)
	got, err := f.s.Events.ListEventsAfter(f.ctx, inst.SubscriptionID, 0, n+1)
	mustOK(t, "list events", err)
	if len(got) != n {
		t.Fatalf("events: got %d, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Position != int64(i+1) || e.ID != ids[i] {
			t.Fatalf("event %d: position %d id %s, want position %d id %s", i, e.Position, e.ID, i+1, ids[i])
		}
	}
}

func testEventCursor(t *testing.T, f *fixture, bl ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	quiet := f.instance(f.subscription().ID, "quiet")
	f.appendEvent(inst, base)
	f.appendEvent(inst, base)
	f.appendEvent(quiet, base)
	mustOK(t, "dispatch quiet's", f.s.Events.AdvanceEventCursor(f.ctx, quiet.SubscriptionID, 0, 1))
	subs, err := bl.ListUndispatched(f.ctx, 10)
	mustOK(t, "list undispatched", err)
	if diff := cmp.Diff([]ports.SubscriptionID{inst.SubscriptionID}, subs); diff != "" {
		t.Fatalf("undispatched (-want +got):\n%s", diff)
	}
	mustOK(t, "advance 0→1", f.s.Events.AdvanceEventCursor(f.ctx, inst.SubscriptionID, 0, 1))
	err = f.s.Events.AdvanceEventCursor(f.ctx, inst.SubscriptionID, 0, 2)
	wantErr(t, "advance from a stale place", err, ports.EConflict, "")
	mustOK(t, "advance 1→2", f.s.Events.AdvanceEventCursor(f.ctx, inst.SubscriptionID, 1, 2))
	c, err := f.s.Events.GetEventCursor(f.ctx, inst.SubscriptionID)
	mustOK(t, "cursor", err)
	if c != (ports.EventCursor{Appended: 2, Dispatched: 2}) {
		t.Fatalf("cursor: got %+v, want 2/2", c)
	}
	if subs, _ := bl.ListUndispatched(f.ctx, 10); len(subs) != 0 {
		t.Fatalf("undispatched: got %v, want none", subs)
	}
	if c, err := f.s.Events.GetEventCursor(f.ctx, ports.SubscriptionID(newID())); err != nil || c != (ports.EventCursor{}) {
		t.Fatalf("cursor of a subscription without events: got %+v, %v; want zero, nil", c, err)
	}
}

func testEventPurge(t *testing.T, f *fixture, bl ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	for i := range 5 {
		f.appendEvent(inst, base.Add(time.Duration(i)*time.Minute))
	}
	n, err := bl.PurgeEvents(f.ctx, base.Add(3*time.Minute), 2)
	mustOK(t, "purge", err)
	if n != 2 {
		t.Fatalf("first batch: got %d, want 2", n)
	}
	n, err = bl.PurgeEvents(f.ctx, base.Add(3*time.Minute), 2)
	mustOK(t, "purge", err)
	if n != 1 {
		t.Fatalf("second batch: got %d, want 1", n)
	}
	got, err := f.s.Events.ListEventsAfter(f.ctx, inst.SubscriptionID, 0, 10)
	mustOK(t, "list", err)
	if len(got) != 2 || got[0].Position != 4 {
		t.Fatalf("left: got %d events from %v, want positions 4 and 5", len(got), got)
	}
	// A purge keeps the counter: positions are never reused.
	if e := f.appendEvent(inst, base); e.Position != 6 {
		t.Fatalf("position after purge: got %d, want 6", e.Position)
	}
}

// testDeliveryPerEventEndpoint: an event has at most one delivery per
// endpoint, whatever its delivery id; the dispatcher relies on it.
func testDeliveryPerEventEndpoint(t *testing.T, f *fixture, _ ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	w1, w2 := f.webhook(inst, base), f.webhook(inst, base)
	d := f.delivery(w1, base)
	again := d
	again.ID = ports.DeliveryID(newID())
	err := f.s.Deliveries.CreateDelivery(f.ctx, inst.SubscriptionID, again)
	wantErr(t, "a second delivery of the event to the endpoint", err, ports.EConflict, "")
	again.EndpointID = w2.ID
	mustOK(t, "the event to another endpoint", f.s.Deliveries.CreateDelivery(f.ctx, inst.SubscriptionID, again))
}
