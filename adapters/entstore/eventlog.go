package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/event"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ports"
)

// The event log read back for clients catching up (SPEC §10). Every query
// is bounded by the subscription and walks its (subscription, position)
// index; the filters narrow that walk in SQL.

var _ ports.EventReader = (*eventStore)(nil)

// EventReader returns the event log's reader, outside transactions.
func (s *Store) EventReader() ports.EventReader { return &eventStore{s.pool} }

func (st *eventStore) ListEvents(ctx context.Context, sub ports.SubscriptionID, q ports.EventQuery) ([]ports.Event, error) {
	where := []predicate.Event{event.SubscriptionID(string(sub)), event.PositionGT(q.After)}
	if q.Until > 0 {
		where = append(where, event.PositionLTE(q.Until))
	}
	if q.InstanceID != "" {
		where = append(where, event.InstanceID(string(q.InstanceID)))
	}
	if len(q.Types) > 0 {
		types := make([]string, len(q.Types))
		for i, t := range q.Types {
			types[i] = string(t)
		}
		where = append(where, event.TypeIn(types...))
	}
	rows, err := st.s.client.Event.Query().Where(where...).
		Order(ent.Asc(event.FieldPosition)).
		Limit(q.Limit).
		All(ctx)
	if err != nil {
		return nil, dbError("list events", "event", err)
	}
	out := make([]ports.Event, len(rows))
	for i, r := range rows {
		out[i] = toEvent(r)
	}
	return out, nil
}

func (st *eventStore) GetEvent(ctx context.Context, sub ports.SubscriptionID, id string) (ports.Event, error) {
	r, err := st.s.client.Event.Query().
		Where(event.ID(id), event.SubscriptionID(string(sub))).
		Only(ctx)
	if err != nil {
		return ports.Event{}, dbError("get event", "event", err)
	}
	return toEvent(r), nil
}

func (st *eventStore) OldestEvent(ctx context.Context, sub ports.SubscriptionID) (ports.Event, error) {
	r, err := st.s.client.Event.Query().
		Where(event.SubscriptionID(string(sub))).
		Order(ent.Asc(event.FieldPosition)).
		First(ctx)
	if err != nil {
		return ports.Event{}, dbError("oldest event", "event", err)
	}
	return toEvent(r), nil
}
