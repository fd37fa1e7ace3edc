package entstore

import (
	"context"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ent/webhookdelivery"
	"github.com/wagate/wagate/ent/webhookendpoint"
	"github.com/wagate/wagate/ports"
)

// maxDueBatch bounds DueDeliveries, whatever the caller asks.
const maxDueBatch = 100

func (st *deliveryStore) DueDeliveries(ctx context.Context, sub ports.SubscriptionID, endpoint ports.WebhookID, now time.Time, limit int) ([]ports.WebhookDelivery, error) {
	if limit <= 0 {
		return []ports.WebhookDelivery{}, nil
	}
	rows, err := st.s.client.WebhookDelivery.Query().
		Where(
			webhookdelivery.SubscriptionID(string(sub)),
			webhookdelivery.EndpointID(string(endpoint)),
			webhookdelivery.Status(string(ports.DeliveryPending)),
			st.dueBy(now),
		).
		Order(ent.Asc(webhookdelivery.FieldID)).Limit(min(limit, maxDueBatch)).All(ctx)
	if err != nil {
		return nil, dbError("due deliveries", "delivery", err)
	}
	out := make([]ports.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = toDelivery(r)
	}
	return out, nil
}

// dueBy is next_attempt_at <= now, written so that SQLite walks the
// endpoint's pending rows by the (endpoint_id, status, id) index. Without
// statistics its planner prefers the relay's (status, next_attempt_at)
// index for the range, which under a backlog walks every endpoint's due
// rows and sorts them, per call: a unary plus keeps a column out of index
// choice (SQLite only; PostgreSQL has no + for timestamps, and its
// statistics choose well).
func (st *deliveryStore) dueBy(now time.Time) predicate.WebhookDelivery {
	if st.s.dialect != dialect.SQLite {
		return webhookdelivery.NextAttemptAtLTE(dbTime(now))
	}
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("+").Ident(s.C(webhookdelivery.FieldNextAttemptAt)).WriteOp(sql.OpLTE).Arg(dbTime(now))
		}))
	}
}

// ClaimDelivery is one conditional UPDATE: the row's own conditions and
// the endpoint's, checked in a subquery, so that a drain working from a
// cached endpoint never posts after the endpoint changed (a new URL or
// secret, a disable, a delete), on this node or another.
func (st *deliveryStore) ClaimDelivery(ctx context.Context, sub ports.SubscriptionID, c ports.DeliveryClaim) (bool, error) {
	n, err := st.s.client.WebhookDelivery.Update().
		Where(
			webhookdelivery.ID(string(c.ID)),
			webhookdelivery.SubscriptionID(string(sub)),
			webhookdelivery.EndpointID(string(c.Endpoint)),
			webhookdelivery.Status(string(ports.DeliveryPending)),
			webhookdelivery.Attempts(c.Attempts),
			endpointUnchanged(sub, c.Endpoint, c.EndpointVersion),
		).
		SetAttempts(c.Attempts + 1).
		SetUpdatedAt(dbTime(c.At)).
		SetNextAttemptAt(dbTime(c.LeaseEnd)).
		Save(ctx)
	if err != nil {
		return false, dbError("claim delivery", "delivery", err)
	}
	return n == 1, nil
}

// ClaimDeliveries is ClaimDelivery's UPDATE over a list of ids, with
// RETURNING (PostgreSQL, and SQLite since 3.35) to tell which rows it
// claimed: ent's generated update only counts them.
func (st *deliveryStore) ClaimDeliveries(ctx context.Context, sub ports.SubscriptionID, c ports.DeliveryClaim, ids []ports.DeliveryID) ([]ports.DeliveryID, error) {
	if len(ids) == 0 {
		return []ports.DeliveryID{}, nil
	}
	if len(ids) > maxDueBatch {
		return nil, ports.Errorf(ports.EInvalid, "claim at most %d deliveries at once", maxDueBatch)
	}
	in := make([]any, len(ids))
	for i, id := range ids {
		in[i] = string(id)
	}
	b := sql.Dialect(st.s.dialect)
	t := sql.Table(webhookendpoint.Table)
	endpoint := b.Select(t.C(webhookendpoint.FieldID)).From(t).Where(sql.And(
		sql.EQ(t.C(webhookendpoint.FieldID), string(c.Endpoint)),
		sql.EQ(t.C(webhookendpoint.FieldSubscriptionID), string(sub)),
		sql.EQ(t.C(webhookendpoint.FieldEnabled), true),
		sql.EQ(t.C(webhookendpoint.FieldUpdatedAt), dbTime(c.EndpointVersion)),
	))
	query, args := b.Update(webhookdelivery.Table).
		Set(webhookdelivery.FieldAttempts, c.Attempts+1).
		Set(webhookdelivery.FieldUpdatedAt, dbTime(c.At)).
		Set(webhookdelivery.FieldNextAttemptAt, dbTime(c.LeaseEnd)).
		Where(sql.And(
			sql.In(webhookdelivery.FieldID, in...),
			sql.EQ(webhookdelivery.FieldSubscriptionID, string(sub)),
			sql.EQ(webhookdelivery.FieldEndpointID, string(c.Endpoint)),
			sql.EQ(webhookdelivery.FieldStatus, string(ports.DeliveryPending)),
			sql.EQ(webhookdelivery.FieldAttempts, c.Attempts),
			sql.Exists(endpoint),
		)).
		Returning(webhookdelivery.FieldID).
		Query()
	rows, err := st.s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbError("claim deliveries", "delivery", err)
	}
	defer rows.Close()
	out := []ports.DeliveryID{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, dbError("claim deliveries", "delivery", err)
		}
		out = append(out, ports.DeliveryID(id))
	}
	return out, dbError("claim deliveries", "delivery", rows.Err())
}

// endpointUnchanged holds while the endpoint is enabled and its UpdatedAt
// is version: every change of an endpoint sets UpdatedAt.
func endpointUnchanged(sub ports.SubscriptionID, id ports.WebhookID, version time.Time) predicate.WebhookDelivery {
	return func(s *sql.Selector) {
		t := sql.Table(webhookendpoint.Table)
		s.Where(sql.Exists(sql.Select(t.C(webhookendpoint.FieldID)).From(t).Where(sql.And(
			sql.EQ(t.C(webhookendpoint.FieldID), string(id)),
			sql.EQ(t.C(webhookendpoint.FieldSubscriptionID), string(sub)),
			sql.EQ(t.C(webhookendpoint.FieldEnabled), true),
			sql.EQ(t.C(webhookendpoint.FieldUpdatedAt), dbTime(version)),
		))))
	}
}

func (st *deliveryStore) SaveAttempt(ctx context.Context, sub ports.SubscriptionID, d ports.WebhookDelivery, was int) (bool, error) {
	u := st.s.client.WebhookDelivery.Update().
		Where(
			webhookdelivery.ID(string(d.ID)),
			webhookdelivery.SubscriptionID(string(sub)),
			webhookdelivery.Status(string(ports.DeliveryPending)),
			webhookdelivery.Attempts(was),
		).
		SetStatus(string(d.Status)).
		SetAttempts(d.Attempts).
		SetLastStatusCode(d.LastStatusCode).
		SetLastError(d.LastError).
		SetLastResponse(d.LastResponse).
		SetLatencyMs(d.LatencyMS).
		SetUpdatedAt(dbTime(d.UpdatedAt))
	setOptionalTime(d.NextAttemptAt, u.SetNextAttemptAt, u.ClearNextAttemptAt)
	n, err := u.Save(ctx)
	if err != nil {
		return false, dbError("save attempt", "delivery", err)
	}
	return n == 1, nil
}
