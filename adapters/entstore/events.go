package entstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/event"
	"github.com/wagate/wagate/ent/eventcursor"
	"github.com/wagate/wagate/ports"
)

type eventStore struct{ s *conn }

// eventBacklog answers the periodic passes' queries, which cross
// subscriptions on purpose.
type eventBacklog struct{ s *conn }

var (
	_ ports.EventStore   = (*eventStore)(nil)
	_ ports.EventBacklog = (*eventBacklog)(nil)
)

// EventBacklog returns the system-level view of the event log.
func (s *Store) EventBacklog() ports.EventBacklog { return &eventBacklog{s.pool} }

// AppendEvent bumps the subscription's counter, which locks its row until
// commit (the upsert is a write), then stores the event at that position.
func (st *eventStore) AppendEvent(ctx context.Context, e ports.Event) (int64, error) {
	var pos int64
	err := st.s.inTx(ctx, func(tx *conn) error {
		err := tx.client.EventCursor.Create().SetID(string(e.SubscriptionID)).SetAppended(1).
			OnConflictColumns(eventcursor.FieldID).AddAppended(1).Exec(ctx)
		if err != nil {
			return dbError("append event", "event cursor", err)
		}
		c, err := tx.client.EventCursor.Get(ctx, string(e.SubscriptionID))
		if err != nil {
			return dbError("append event", "event cursor", err)
		}
		pos = c.Appended
		err = tx.client.Event.Create().
			SetID(e.ID).
			SetSubscriptionID(string(e.SubscriptionID)).
			SetPosition(pos).
			SetInstanceID(string(e.InstanceID)).
			SetType(string(e.Type)).
			SetData(slices.Clone(e.Data)).
			SetCreatedAt(dbTime(e.At)).
			Exec(ctx)
		return dbError("append event", "event", err)
	})
	return pos, err
}

func (st *eventStore) ListEventsAfter(ctx context.Context, sub ports.SubscriptionID, after int64, limit int) ([]ports.Event, error) {
	rows, err := st.s.client.Event.Query().
		Where(event.SubscriptionID(string(sub)), event.PositionGT(after)).
		Order(ent.Asc(event.FieldPosition)).
		Limit(limit).
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

func toEvent(r *ent.Event) ports.Event {
	return ports.Event{
		ID: r.ID, Type: ports.EventType(r.Type), SubscriptionID: ports.SubscriptionID(r.SubscriptionID),
		InstanceID: ports.InstanceID(r.InstanceID), At: r.CreatedAt.UTC(), Data: json.RawMessage(r.Data),
		Position: r.Position,
	}
}

func (st *eventStore) GetEventCursor(ctx context.Context, sub ports.SubscriptionID) (ports.EventCursor, error) {
	c, err := st.s.client.EventCursor.Get(ctx, string(sub))
	switch {
	case ent.IsNotFound(err):
		return ports.EventCursor{}, nil
	case err != nil:
		return ports.EventCursor{}, dbError("get event cursor", "event cursor", err)
	}
	return ports.EventCursor{Appended: c.Appended, Dispatched: c.Dispatched}, nil
}

// AdvanceEventCursor is one conditional statement: of two dispatchers
// racing from the same place, exactly one moves the cursor.
func (st *eventStore) AdvanceEventCursor(ctx context.Context, sub ports.SubscriptionID, from, to int64) error {
	n, err := st.s.client.EventCursor.Update().
		Where(eventcursor.ID(string(sub)), eventcursor.Dispatched(from)).
		SetDispatched(to).
		Save(ctx)
	if err != nil {
		return dbError("advance event cursor", "event cursor", err)
	}
	if n == 0 {
		return ports.Errorf(ports.EConflict, "the event cursor moved")
	}
	return nil
}

func (b *eventBacklog) ListUndispatched(ctx context.Context, limit int) ([]ports.SubscriptionID, error) {
	ids, err := b.s.client.EventCursor.Query().
		Where(func(s *entsql.Selector) {
			s.Where(entsql.ColumnsGT(s.C(eventcursor.FieldAppended), s.C(eventcursor.FieldDispatched)))
		}).
		Limit(limit).
		IDs(ctx)
	if err != nil {
		return nil, dbError("list undispatched events", "event cursor", err)
	}
	out := make([]ports.SubscriptionID, len(ids))
	for i, id := range ids {
		out[i] = ports.SubscriptionID(id)
	}
	return out, nil
}

// PurgeEvents picks a batch of ids first, so that one pass never holds a
// long delete.
func (b *eventBacklog) PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	ids, err := b.s.client.Event.Query().
		Where(event.CreatedAtLT(dbTime(before))).
		Order(ent.Asc(event.FieldCreatedAt)).
		Limit(limit).
		IDs(ctx)
	if err != nil || len(ids) == 0 {
		return 0, dbError("purge events", "event", err)
	}
	n, err := b.s.client.Event.Delete().Where(event.IDIn(ids...)).Exec(ctx)
	return n, dbError("purge events", "event", err)
}
