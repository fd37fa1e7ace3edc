package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wagate/wagate/ports"
)

// The event log read back (ports.EventReader): the queries of GET /events
// and of the stream's replay.

// testEventReadFiltered: the filters, the bounds and the limit select in
// the store, in position order, and never cross subscriptions.
func testEventReadFiltered(t *testing.T, f *fixture, _ ports.EventBacklog) {
	sub := f.subscription().ID
	a, b := f.instance(sub, "a"), f.instance(sub, "b")
	other := f.instance(f.subscription().ID, "other")
	var all []ports.Event
	for i := range 6 {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		e := newEvent(inst, base.Add(time.Duration(i)*time.Second))
		if i == 4 {
			e.Type = ports.EventInstanceStatus
		}
		pos, err := f.s.Events.AppendEvent(f.ctx, e)
		mustOK(t, "append", err)
		e.Position, e.At = pos, e.At.UTC().Truncate(time.Microsecond)
		all = append(all, e)
	}
	f.appendEvent(other, base)
	r := f.b.(EventBackend).EventReader()
	tests := []struct {
		name string
		q    ports.EventQuery
		want []ports.Event
	}{
		{"all", ports.EventQuery{Limit: 100}, all},
		{"after and limit", ports.EventQuery{After: 2, Limit: 2}, all[2:4]},
		{"until", ports.EventQuery{After: 1, Until: 3, Limit: 100}, all[1:3]},
		{"instance", ports.EventQuery{InstanceID: b.ID, Limit: 100}, []ports.Event{all[1], all[3], all[5]}},
		{"types", ports.EventQuery{Types: []ports.EventType{ports.EventInstanceStatus, ports.EventBulkStatus}, Limit: 100}, []ports.Event{all[4]}},
		{"instance and types", ports.EventQuery{InstanceID: b.ID, Types: []ports.EventType{ports.EventInstanceStatus}, Limit: 100}, nil},
		{"past the end", ports.EventQuery{After: 6, Limit: 100}, nil},
		{"another subscription's instance", ports.EventQuery{InstanceID: other.ID, Limit: 100}, nil},
	}
	for _, tt := range tests {
		got, err := r.ListEvents(f.ctx, sub, tt.q)
		mustOK(t, tt.name, err)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// testEventReadOne: an event is found by id only in its own
// subscription, and the oldest kept one moves with the purge.
func testEventReadOne(t *testing.T, f *fixture, bl ports.EventBacklog) {
	inst := f.instance(f.subscription().ID, "one")
	other := f.instance(f.subscription().ID, "other")
	r := f.b.(EventBackend).EventReader()
	_, err := r.OldestEvent(f.ctx, inst.SubscriptionID)
	wantErr(t, "oldest of an empty log", err, ports.ENotFound, "")
	first := f.appendEvent(inst, base)
	second := f.appendEvent(inst, base.Add(time.Hour))
	theirs := f.appendEvent(other, base)

	got, err := r.GetEvent(f.ctx, inst.SubscriptionID, second.ID)
	mustOK(t, "get own event", err)
	if diff := cmp.Diff(second, got); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}
	_, err = r.GetEvent(f.ctx, inst.SubscriptionID, theirs.ID)
	wantErr(t, "get another subscription's event", err, ports.ENotFound, "")
	_, err = r.GetEvent(f.ctx, inst.SubscriptionID, "evt_"+newID())
	wantErr(t, "get an unknown event", err, ports.ENotFound, "")

	oldest, err := r.OldestEvent(f.ctx, inst.SubscriptionID)
	mustOK(t, "oldest", err)
	if oldest.ID != first.ID {
		t.Fatalf("oldest: got %s, want %s", oldest.ID, first.ID)
	}
	_, err = bl.PurgeEvents(f.ctx, base.Add(time.Minute), 100)
	mustOK(t, "purge", err)
	if oldest, err = r.OldestEvent(f.ctx, inst.SubscriptionID); err != nil || oldest.ID != second.ID {
		t.Fatalf("oldest after the purge: got %s, %v; want %s", oldest.ID, err, second.ID)
	}
	_, err = r.GetEvent(f.ctx, inst.SubscriptionID, first.ID)
	wantErr(t, "get a purged event", err, ports.ENotFound, "")
}
