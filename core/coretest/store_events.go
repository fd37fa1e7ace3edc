package coretest

import (
	"context"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

var (
	_ ports.EventStore   = view{}
	_ ports.EventBacklog = view{}
)

// EventBacklog returns the system-level view of the event log, for use
// outside transactions.
func (s *Store) EventBacklog() ports.EventBacklog { return view{s: s} }

// Events returns every committed event still in the log, in append order.
func (s *Store) Events() []ports.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.data.events)
}

// AppendEvent stores e at its subscription's next position. Like the real
// stores, positions commit in order: a transaction holds the one writer.
func (v view) AppendEvent(_ context.Context, e ports.Event) (int64, error) {
	d, done, err := v.enter("AppendEvent")
	if err != nil {
		return 0, err
	}
	defer done()
	if slices.ContainsFunc(d.events, func(o ports.Event) bool { return o.ID == e.ID }) {
		return 0, ports.Errorf(ports.EConflict, "event already exists")
	}
	c := d.cursors[e.SubscriptionID]
	c.Appended++
	d.cursors[e.SubscriptionID] = c
	e.Position, e.At, e.Data = c.Appended, keptTime(e.At), slices.Clone(e.Data)
	d.events = append(d.events, e)
	return c.Appended, nil
}

// ListEventsAfter returns up to limit of sub's events after a position.
func (v view) ListEventsAfter(_ context.Context, sub ports.SubscriptionID, after int64, limit int) ([]ports.Event, error) {
	d, done, err := v.enter("ListEventsAfter")
	if err != nil {
		return nil, err
	}
	defer done()
	var out []ports.Event
	for _, e := range d.events {
		if e.SubscriptionID == sub && e.Position > after && len(out) < limit {
			e.Data = slices.Clone(e.Data)
			out = append(out, e)
		}
	}
	return out, nil
}

// GetEventCursor returns sub's cursor, zero if it has no events.
func (v view) GetEventCursor(_ context.Context, sub ports.SubscriptionID) (ports.EventCursor, error) {
	d, done, err := v.enter("GetEventCursor")
	if err != nil {
		return ports.EventCursor{}, err
	}
	defer done()
	return d.cursors[sub], nil
}

// AdvanceEventCursor moves Dispatched from from to to; EConflict if it moved.
func (v view) AdvanceEventCursor(_ context.Context, sub ports.SubscriptionID, from, to int64) error {
	d, done, err := v.enter("AdvanceEventCursor")
	if err != nil {
		return err
	}
	defer done()
	c, ok := d.cursors[sub]
	if !ok || c.Dispatched != from {
		return ports.Errorf(ports.EConflict, "the event cursor moved")
	}
	c.Dispatched = to
	d.cursors[sub] = c
	return nil
}

// ListUndispatched returns subscriptions with events not yet dispatched.
func (v view) ListUndispatched(_ context.Context, limit int) ([]ports.SubscriptionID, error) {
	d, done, err := v.enter("ListUndispatched")
	if err != nil {
		return nil, err
	}
	defer done()
	var out []ports.SubscriptionID
	for sub, c := range d.cursors {
		if c.Appended > c.Dispatched && len(out) < limit {
			out = append(out, sub)
		}
	}
	slices.Sort(out)
	return out, nil
}

// PurgeEvents deletes up to limit events appended before the time.
func (v view) PurgeEvents(_ context.Context, before time.Time, limit int) (int, error) {
	d, done, err := v.enter("PurgeEvents")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	d.events = slices.DeleteFunc(d.events, func(e ports.Event) bool {
		if n < limit && e.At.Before(keptTime(before)) {
			n++
			return true
		}
		return false
	})
	return n, nil
}
