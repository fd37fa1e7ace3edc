package entstore

// Retention (SPEC §18): the per-subscription settings and the purge that
// enforces them, one short transaction per batch.

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/wagate/wagate/ent/auditlog"
	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ent/messagemedia"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ent/subscription"
	"github.com/wagate/wagate/ent/webhookdelivery"
	"github.com/wagate/wagate/ports"
)

// Retention returns the store of retention settings and its purge.
func (s *Store) Retention() ports.RetentionStore { return &retentionStore{s: s.pool, db: s} }

type retentionStore struct {
	s  *conn
	db *Store
}

var _ ports.RetentionStore = (*retentionStore)(nil)

func (st *retentionStore) GetRetention(ctx context.Context, sub ports.SubscriptionID) (ports.Retention, bool, error) {
	e, err := st.s.client.Subscription.Get(ctx, string(sub))
	if err != nil {
		return ports.Retention{}, false, dbError("get retention", "subscription", err)
	}
	if e.RetentionMessagesDays == nil || e.RetentionMediaDays == nil ||
		e.RetentionDeliveriesDays == nil || e.RetentionAuditDays == nil {
		return ports.Retention{}, false, nil
	}
	return ports.Retention{
		MessagesDays: *e.RetentionMessagesDays, MediaDays: *e.RetentionMediaDays,
		DeliveriesDays: *e.RetentionDeliveriesDays, AuditDays: *e.RetentionAuditDays,
	}, true, nil
}

func (st *retentionStore) SetRetention(ctx context.Context, sub ports.SubscriptionID, r ports.Retention) error {
	err := st.s.client.Subscription.UpdateOneID(string(sub)).
		SetRetentionMessagesDays(r.MessagesDays).SetRetentionMediaDays(r.MediaDays).
		SetRetentionDeliveriesDays(r.DeliveriesDays).SetRetentionAuditDays(r.AuditDays).
		Exec(ctx)
	return dbError("set retention", "subscription", err)
}

func (st *retentionStore) RetentionOverrides(ctx context.Context) (map[ports.SubscriptionID]ports.Retention, error) {
	rows, err := st.s.client.Subscription.Query().
		Where(subscription.RetentionMessagesDaysNotNil(), subscription.RetentionMediaDaysNotNil(),
			subscription.RetentionDeliveriesDaysNotNil(), subscription.RetentionAuditDaysNotNil()).
		All(ctx)
	if err != nil {
		return nil, dbError("list retention settings", "subscription", err)
	}
	out := make(map[ports.SubscriptionID]ports.Retention, len(rows))
	for _, e := range rows {
		out[ports.SubscriptionID(e.ID)] = ports.Retention{
			MessagesDays: *e.RetentionMessagesDays, MediaDays: *e.RetentionMediaDays,
			DeliveriesDays: *e.RetentionDeliveriesDays, AuditDays: *e.RetentionAuditDays,
		}
	}
	return out, nil
}

// ofSubscription restricts a query to sub or, when sub is "", to the
// subscriptions whose retention column is unset (the platform default).
func ofSubscription(sub ports.SubscriptionID, column string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if sub != "" {
			s.Where(sql.EQ(s.C("subscription_id"), string(sub)))
			return
		}
		t := sql.Table(subscription.Table)
		s.Where(sql.In(s.C("subscription_id"),
			sql.Select(t.C(subscription.FieldID)).From(t).Where(sql.IsNull(t.C(column)))))
	}
}

func (st *retentionStore) PurgeBatch(ctx context.Context, kind ports.PurgeKind, sub ports.SubscriptionID, before time.Time, limit int) (int, error) {
	before = dbTime(before)
	c := st.s.client
	switch kind {
	case ports.PurgeMessages:
		n := 0
		err := st.s.inTx(ctx, func(tx *conn) error {
			ids, err := tx.client.Message.Query().
				Where(message.CreatedAtLT(before), predicate.Message(ofSubscription(sub, subscription.FieldRetentionMessagesDays))).
				Limit(limit).IDs(ctx)
			if err != nil || len(ids) == 0 {
				return err
			}
			if _, err := tx.client.MessageMedia.Delete().Where(messagemedia.IDIn(ids...)).Exec(ctx); err != nil {
				return err
			}
			n, err = tx.client.Message.Delete().Where(message.IDIn(ids...)).Exec(ctx)
			return err
		})
		return n, dbError("purge messages", "message", err)
	case ports.PurgeMedia:
		ids, err := c.MessageMedia.Query().
			Where(messagemedia.CreatedAtLT(before), predicate.MessageMedia(ofSubscription(sub, subscription.FieldRetentionMediaDays))).
			Limit(limit).IDs(ctx)
		if err != nil || len(ids) == 0 {
			return 0, dbError("purge media", "media", err)
		}
		n, err := c.MessageMedia.Delete().Where(messagemedia.IDIn(ids...)).Exec(ctx)
		return n, dbError("purge media", "media", err)
	case ports.PurgeDeliveries:
		ids, err := c.WebhookDelivery.Query().
			Where(webhookdelivery.CreatedAtLT(before), webhookdelivery.StatusNEQ(string(ports.DeliveryPending)),
				predicate.WebhookDelivery(ofSubscription(sub, subscription.FieldRetentionDeliveriesDays))).
			Limit(limit).IDs(ctx)
		if err != nil || len(ids) == 0 {
			return 0, dbError("purge deliveries", "delivery", err)
		}
		n, err := c.WebhookDelivery.Delete().Where(webhookdelivery.IDIn(ids...)).Exec(ctx)
		return n, dbError("purge deliveries", "delivery", err)
	case ports.PurgeAudit:
		ids, err := c.AuditLog.Query().
			Where(auditlog.AtLT(before), predicate.AuditLog(ofSubscription(sub, subscription.FieldRetentionAuditDays))).
			Limit(limit).IDs(ctx)
		if err != nil || len(ids) == 0 {
			return 0, dbError("purge audit log", "audit entry", err)
		}
		n, err := c.AuditLog.Delete().Where(auditlog.IDIn(ids...)).Exec(ctx)
		return n, dbError("purge audit log", "audit entry", err)
	}
	return 0, fmt.Errorf("purge: unknown kind %q", kind)
}

// purgeLockKey names the PostgreSQL advisory lock of the retention purge
// ("rp" in ASCII).
const purgeLockKey = 0x7270

// TryPurgeLease holds a PostgreSQL session advisory lock on a connection
// of its own: a node that dies releases it with its session. SQLite has
// one process: the lease is always free.
func (st *retentionStore) TryPurgeLease(ctx context.Context) (func(), bool, error) {
	if st.db.dialect != dialect.Postgres {
		return func() {}, true, nil
	}
	conn, err := st.db.db.Conn(ctx)
	if err != nil {
		return nil, false, dbError("take the purge lease", "lease", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", purgeLockKey).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, dbError("take the purge lease", "lease", err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", purgeLockKey)
		conn.Close()
	}, true, nil
}
