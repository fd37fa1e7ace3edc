package entstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
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

// AppendEvent queues e on the transaction, which writes it as its last
// statements (flushEvents): the subscription's counter row, which every
// append of the subscription locks until commit, is then held only for
// those statements and the commit, not for the rest of the change. Inside
// a transaction the position is not known before the commit and 0 is
// returned; outside one the event is written at once, in a transaction
// of its own, and its position returned.
func (st *eventStore) AppendEvent(ctx context.Context, e ports.Event) (int64, error) {
	if st.s.tx {
		*st.s.events = append(*st.s.events, e)
		return 0, nil
	}
	var pos int64
	err := st.s.inTx(ctx, func(tx *conn) error {
		var err error
		pos, err = tx.writeEvents(ctx, e.SubscriptionID, []ports.Event{e})
		return err
	})
	return pos, err
}

// bumpCursor adds n to sub's appended counter and returns the new value,
// in one statement (the row lock it takes is held until commit).
const bumpCursor = `INSERT INTO event_cursors (id, appended, dispatched) VALUES (?, ?, 0)
ON CONFLICT (id) DO UPDATE SET appended = event_cursors.appended + excluded.appended
RETURNING appended`

// flushEvents writes the transaction's queued events, each subscription's
// at the positions after its counter, in the order they were appended.
// The subscriptions go in id order, so that two transactions that both
// append to the same two never wait on each other in a cycle.
func (c *conn) flushEvents(ctx context.Context) error {
	if len(*c.events) == 0 {
		return nil
	}
	bySub := map[ports.SubscriptionID][]ports.Event{}
	for _, e := range *c.events {
		bySub[e.SubscriptionID] = append(bySub[e.SubscriptionID], e)
	}
	*c.events = nil
	for _, sub := range slices.Sorted(maps.Keys(bySub)) {
		if _, err := c.writeEvents(ctx, sub, bySub[sub]); err != nil {
			return err
		}
	}
	return nil
}

// writeEvents stores evs, all of sub, at the positions after sub's
// counter and returns the last of them.
func (c *conn) writeEvents(ctx context.Context, sub ports.SubscriptionID, evs []ports.Event) (int64, error) {
	rows, err := c.client.QueryContext(ctx, rebind(c.dialect, bumpCursor), string(sub), len(evs))
	if err != nil {
		return 0, dbError("append event", "event cursor", err)
	}
	var last int64
	if rows.Next() {
		err = rows.Scan(&last)
	}
	err = errors.Join(err, rows.Err(), rows.Close())
	if err != nil || last == 0 {
		return 0, dbError("append event", "event cursor", cmp.Or(err, errors.New("no counter returned")))
	}
	first := last - int64(len(evs)) + 1
	for i, chunk := range slices.Collect(slices.Chunk(evs, eventInsertChunk)) {
		creates := make([]*ent.EventCreate, len(chunk))
		for j, e := range chunk {
			creates[j] = c.client.Event.Create().
				SetID(e.ID).
				SetSubscriptionID(string(sub)).
				SetPosition(first + int64(i*eventInsertChunk+j)).
				SetInstanceID(string(e.InstanceID)).
				SetType(string(e.Type)).
				SetData(slices.Clone(e.Data)).
				SetCreatedAt(dbTime(e.At))
		}
		if err := c.client.Event.CreateBulk(creates...).Exec(ctx); err != nil {
			return 0, dbError("append event", "event", err)
		}
	}
	return last, nil
}

// eventInsertChunk bounds the rows of one insert, well under both
// databases' limits on a statement's parameters (7 a row).
const eventInsertChunk = 500

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
