package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/subscription"
	"github.com/wagate/wagate/ports"
)

type subscriptionStore struct{ s *conn }

var _ ports.SubscriptionStore = (*subscriptionStore)(nil)

func (st *subscriptionStore) CreateSubscription(ctx context.Context, sub ports.Subscription) error {
	err := st.s.client.Subscription.Create().
		SetID(string(sub.ID)).
		SetTier(string(sub.Tier)).
		SetCreatedAt(dbTime(sub.CreatedAt)).
		SetUpdatedAt(dbTime(sub.UpdatedAt)).
		Exec(ctx)
	return dbError("create subscription", "subscription", err)
}

func (st *subscriptionStore) GetSubscription(ctx context.Context, id ports.SubscriptionID) (ports.Subscription, error) {
	e, err := st.s.client.Subscription.Get(ctx, string(id))
	if err != nil {
		return ports.Subscription{}, dbError("get subscription", "subscription", err)
	}
	return toSubscription(e), nil
}

func (st *subscriptionStore) LockSubscription(ctx context.Context, id ports.SubscriptionID) (ports.Subscription, error) {
	e, err := st.s.lockSubscription(ctx, id)
	if err != nil {
		return ports.Subscription{}, dbError("lock subscription", "subscription", err)
	}
	return toSubscription(e), nil
}

// lockSubscription reads the row with FOR UPDATE on PostgreSQL; on SQLite the
// transaction already holds the database's write lock.
func (c *conn) lockSubscription(ctx context.Context, id ports.SubscriptionID) (*ent.Subscription, error) {
	q := c.client.Subscription.Query().Where(subscription.ID(string(id)))
	if c.postgres() {
		q = q.ForUpdate()
	}
	return q.Only(ctx)
}

func (st *subscriptionStore) ListSubscriptions(ctx context.Context, page ports.PageRequest) (ports.Page[ports.Subscription], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Subscription]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.Subscription.Query().Order(ent.Asc(subscription.FieldID)).Limit(limit + 1)
	if after != "" {
		q = q.Where(subscription.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.Subscription]{}, dbError("list subscriptions", "subscription", err)
	}
	return makePage(rows, limit, toSubscription, func(e *ent.Subscription) string { return e.ID }), nil
}

func (st *subscriptionStore) UpdateSubscription(ctx context.Context, id ports.SubscriptionID, fn func(*ports.Subscription) error) (ports.Subscription, error) {
	var out ports.Subscription
	err := st.s.inTx(ctx, func(tx *conn) error {
		e, err := tx.lockSubscription(ctx, id)
		if err != nil {
			return dbError("update subscription", "subscription", err)
		}
		sub := toSubscription(e)
		if err := fn(&sub); err != nil {
			return err
		}
		e, err = e.Update().
			SetTier(string(sub.Tier)).
			SetUpdatedAt(dbTime(sub.UpdatedAt)).
			Save(ctx)
		if err != nil {
			return dbError("update subscription", "subscription", err)
		}
		out = toSubscription(e)
		return nil
	})
	return out, err
}
