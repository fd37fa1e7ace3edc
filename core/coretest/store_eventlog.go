package coretest

import (
	"context"
	"slices"

	"github.com/wagate/wagate/ports"
)

var _ ports.EventReader = view{}

// EventReader returns the event log's reader, outside transactions.
func (s *Store) EventReader() ports.EventReader { return view{s: s} }

// ListEvents returns up to q.Limit of sub's events matching q.
func (v view) ListEvents(_ context.Context, sub ports.SubscriptionID, q ports.EventQuery) ([]ports.Event, error) {
	d, done, err := v.enter("ListEvents")
	if err != nil {
		return nil, err
	}
	defer done()
	f := ports.EventFilter{SubscriptionID: sub, InstanceID: q.InstanceID, Types: q.Types}
	var out []ports.Event
	for _, e := range d.events {
		if len(out) == q.Limit {
			break
		}
		if e.Position > q.After && (q.Until == 0 || e.Position <= q.Until) && f.Matches(e) {
			e.Data = slices.Clone(e.Data)
			out = append(out, e)
		}
	}
	return out, nil
}

// GetEvent returns sub's event of that id; ENotFound otherwise.
func (v view) GetEvent(_ context.Context, sub ports.SubscriptionID, id string) (ports.Event, error) {
	d, done, err := v.enter("GetEvent")
	if err != nil {
		return ports.Event{}, err
	}
	defer done()
	for _, e := range d.events {
		if e.ID == id && e.SubscriptionID == sub {
			e.Data = slices.Clone(e.Data)
			return e, nil
		}
	}
	return ports.Event{}, ports.Errorf(ports.ENotFound, "event not found")
}

// OldestEvent returns sub's kept event of the lowest position.
func (v view) OldestEvent(_ context.Context, sub ports.SubscriptionID) (ports.Event, error) {
	d, done, err := v.enter("OldestEvent")
	if err != nil {
		return ports.Event{}, err
	}
	defer done()
	// Appended in position order per subscription: the first is the oldest.
	for _, e := range d.events {
		if e.SubscriptionID == sub {
			e.Data = slices.Clone(e.Data)
			return e, nil
		}
	}
	return ports.Event{}, ports.Errorf(ports.ENotFound, "event not found")
}
