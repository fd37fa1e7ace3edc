package entstore

import (
	"context"
	"strconv"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/bulk"
	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ports"
)

type bulkStore struct{ s *conn }

var (
	_ ports.BulkStore   = (*bulkStore)(nil)
	_ ports.BulkBacklog = (*bulkBacklog)(nil)
)

// recipientBatch is how many message rows one INSERT carries. A message
// row binds about 25 parameters: 1,000 rows stay under SQLite's 32,766
// bound parameters, 2,000 under PostgreSQL's 65,535, so that 10,000
// recipients are 10 or 5 statements.
func (st *bulkStore) recipientBatch() int {
	if st.s.postgres() {
		return 2000
	}
	return 1000
}

func (st *bulkStore) CreateBulk(ctx context.Context, sub ports.SubscriptionID, b ports.Bulk, recipients []ports.Message) error {
	// One transaction for the bulk and every batch: the caller's, when these
	// stores are bound to one.
	return st.s.inTx(ctx, func(tx *conn) error {
		c := tx.client
		err := c.Bulk.Create().
			SetID(string(b.ID)).
			SetSubscriptionID(string(sub)).
			SetInstanceID(string(b.InstanceID)).
			SetStatus(string(b.Status)).
			SetTemplateID(string(b.TemplateID)).
			SetText(b.Text).
			SetTotal(b.Total).
			SetPacingMinMs(int(b.PacingMin / time.Millisecond)).
			SetPacingMaxMs(int(b.PacingMax / time.Millisecond)).
			SetGeneration(b.Generation).
			SetNillableScheduledAt(dbTimePtr(b.ScheduledAt)).
			SetCreatedAt(dbTime(b.CreatedAt)).
			SetUpdatedAt(dbTime(b.UpdatedAt)).
			SetNillableStartedAt(dbTimePtr(b.StartedAt)).
			SetNillableCompletedAt(dbTimePtr(b.CompletedAt)).
			Exec(ctx)
		if err != nil {
			return dbError("create bulk", "bulk", err)
		}
		batch := st.recipientBatch()
		for start := 0; start < len(recipients); start += batch {
			chunk := recipients[start:min(start+batch, len(recipients))]
			builders := make([]*ent.MessageCreate, len(chunk))
			for i, m := range chunk {
				m.BulkID = b.ID
				builders[i] = messageCreate(c, sub, m)
			}
			if err := c.Message.CreateBulk(builders...).Exec(ctx); err != nil {
				return dbError("create bulk messages", "message", err)
			}
		}
		return nil
	})
}

func (st *bulkStore) GetBulk(ctx context.Context, sub ports.SubscriptionID, id ports.BulkID) (ports.Bulk, error) {
	e, err := st.s.client.Bulk.Query().Where(ownBulk(sub, id)...).Only(ctx)
	if err != nil {
		return ports.Bulk{}, dbError("get bulk", "bulk", err)
	}
	return toBulk(e), nil
}

func (st *bulkStore) UpdateBulk(ctx context.Context, sub ports.SubscriptionID, id ports.BulkID, fn func(*ports.Bulk) error) (ports.Bulk, error) {
	var out ports.Bulk
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.Bulk.Query().Where(ownBulk(sub, id)...)
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update bulk", "bulk", err)
		}
		b := toBulk(e)
		if err := fn(&b); err != nil {
			return err
		}
		u := e.Update().
			SetStatus(string(b.Status)).
			SetGeneration(b.Generation).
			SetUpdatedAt(dbTime(b.UpdatedAt))
		setOptionalTime(b.StartedAt, u.SetStartedAt, u.ClearStartedAt)
		setOptionalTime(b.CompletedAt, u.SetCompletedAt, u.ClearCompletedAt)
		e, err = u.Save(ctx)
		if err != nil {
			return dbError("update bulk", "bulk", err)
		}
		out = toBulk(e)
		return nil
	})
	return out, err
}

// CountBulk is one GROUP BY over the bulk's messages, on the
// (bulk_id, status, bulk_seq) index.
func (st *bulkStore) CountBulk(ctx context.Context, sub ports.SubscriptionID, id ports.BulkID) (ports.BulkCounts, error) {
	var rows []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
	err := st.s.client.Message.Query().
		Where(message.BulkID(string(id)), message.SubscriptionID(string(sub))).
		GroupBy(message.FieldStatus).
		Aggregate(ent.Count()).
		Scan(ctx, &rows)
	if err != nil {
		return ports.BulkCounts{}, dbError("count bulk", "bulk", err)
	}
	var c ports.BulkCounts
	for _, r := range rows {
		switch ports.MessageStatus(r.Status) {
		case ports.MsgQueued, ports.MsgSending:
			c.Queued += r.Count
		case ports.MsgSent:
			c.Sent += r.Count
		case ports.MsgDelivered:
			c.Delivered += r.Count
		case ports.MsgRead:
			c.Read += r.Count
		case ports.MsgFailed:
			c.Failed += r.Count
		}
	}
	return c, nil
}

func (st *bulkStore) NextRecipient(ctx context.Context, sub ports.SubscriptionID, id ports.BulkID) (ports.Message, error) {
	e, err := st.s.client.Message.Query().
		Where(
			message.BulkID(string(id)),
			message.SubscriptionID(string(sub)),
			message.StatusIn(string(ports.MsgQueued), string(ports.MsgSending)),
		).
		Order(ent.Asc(message.FieldBulkSeq)).
		First(ctx)
	if err != nil {
		return ports.Message{}, dbError("next recipient", "recipient", err)
	}
	return toMessage(e), nil
}

func (st *bulkStore) FailQueued(ctx context.Context, sub ports.SubscriptionID, id ports.BulkID, code, msg string, at time.Time) (int, error) {
	n, err := st.s.client.Message.Update().
		Where(message.BulkID(string(id)), message.SubscriptionID(string(sub)), message.Status(string(ports.MsgQueued))).
		SetStatus(string(ports.MsgFailed)).
		SetErrorCode(code).
		SetErrorMessage(msg).
		SetUpdatedAt(dbTime(at)).
		Save(ctx)
	if err != nil {
		return 0, dbError("fail bulk messages", "message", err)
	}
	return n, nil
}

// ListBulkMessages pages in bulk_seq order; the cursor is the last seq.
func (st *bulkStore) ListBulkMessages(ctx context.Context, sub ports.SubscriptionID, id ports.BulkID, page ports.PageRequest) (ports.Page[ports.Message], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Message]{}, err
	}
	where := []predicate.Message{message.BulkID(string(id)), message.SubscriptionID(string(sub))}
	if after != "" {
		seq, err := strconv.Atoi(after)
		if err != nil || seq < 0 {
			return ports.Page[ports.Message]{}, ports.InvalidFields(ports.FieldError{Field: "cursor", Message: "not a cursor of this list"})
		}
		where = append(where, message.BulkSeqGT(seq))
	}
	limit := pageLimit(page)
	rows, err := st.s.client.Message.Query().Where(where...).
		Order(ent.Asc(message.FieldBulkSeq)).Limit(limit + 1).All(ctx)
	if err != nil {
		return ports.Page[ports.Message]{}, dbError("list bulk messages", "message", err)
	}
	return makePage(rows, limit, toMessage, func(e *ent.Message) string { return strconv.Itoa(deref(e.BulkSeq)) }), nil
}

// bulkBacklog answers the bulk relay's query, which crosses subscriptions
// on purpose.
type bulkBacklog struct{ s *conn }

// BulkBacklog returns the system-level view of running bulks.
func (s *Store) BulkBacklog() ports.BulkBacklog { return &bulkBacklog{s.pool} }

func (b *bulkBacklog) ListIdleBulks(ctx context.Context, olderThan time.Time, limit int) ([]ports.Bulk, error) {
	if limit <= 0 {
		return []ports.Bulk{}, nil
	}
	rows, err := b.s.client.Bulk.Query().
		Where(
			bulk.StatusIn(string(ports.BulkRunning), string(ports.BulkScheduled)),
			bulk.UpdatedAtLT(dbTime(olderThan)),
		).
		Order(ent.Asc(bulk.FieldUpdatedAt), ent.Asc(bulk.FieldID)).
		Limit(limit).All(ctx)
	if err != nil {
		return nil, dbError("list idle bulks", "bulk", err)
	}
	out := make([]ports.Bulk, len(rows))
	for i, r := range rows {
		out[i] = toBulk(r)
	}
	return out, nil
}

// ownBulk selects a bulk only within its subscription, so that another
// tenant's id reads as missing.
func ownBulk(sub ports.SubscriptionID, id ports.BulkID) []predicate.Bulk {
	return []predicate.Bulk{bulk.ID(string(id)), bulk.SubscriptionID(string(sub))}
}

func toBulk(e *ent.Bulk) ports.Bulk {
	return ports.Bulk{
		ID:             ports.BulkID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		InstanceID:     ports.InstanceID(e.InstanceID),
		Status:         ports.BulkStatus(e.Status),
		TemplateID:     ports.TemplateID(e.TemplateID),
		Text:           e.Text,
		Total:          e.Total,
		PacingMin:      time.Duration(e.PacingMinMs) * time.Millisecond,
		PacingMax:      time.Duration(e.PacingMaxMs) * time.Millisecond,
		Generation:     e.Generation,
		ScheduledAt:    utcPtr(e.ScheduledAt),
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
		StartedAt:      utcPtr(e.StartedAt),
		CompletedAt:    utcPtr(e.CompletedAt),
	}
}
