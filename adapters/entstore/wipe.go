package entstore

// Closing an account (SPEC §18): every row of the subscription, a batch
// per statement, the subscription row last but for its counters.

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// Wiper returns the store that deletes a closed subscription's rows.
func (s *Store) Wiper() ports.SubscriptionEraser { return &wiper{s.pool} }

type wiper struct{ s *conn }

var _ ports.SubscriptionEraser = (*wiper)(nil)

// wipeBatch bounds one delete of a closing.
const wipeBatch = 1000

// subscriptionTables are the tables whose rows carry subscription_id,
// with their key column; children before parents.
var subscriptionTables = []struct{ table, key string }{
	{"exports", "id"}, // the files go first, in core/governance
	{"message_media", "id"},
	{"messages", "id"},
	{"webhook_deliveries", "id"},
	{"webhook_endpoints", "id"},
	{"events", "id"},
	{"idempotency_keys", "id"},
	{"bulks", "id"},
	{"templates", "id"},
	{"api_keys", "id"},
	{"refresh_tokens", "id"},
	{"audit_logs", "id"},
	{"instances", "id"},
	{"invitations", "id"}, // they hold the invited email addresses
	{"users", "id"},
}

func (w *wiper) DeleteSubscriptionData(ctx context.Context, sub ports.SubscriptionID) error {
	c := w.s.client
	exec := func(q string, args ...any) (int64, error) {
		res, err := c.ExecContext(ctx, rebind(w.s.dialect, q), args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	for _, t := range subscriptionTables {
		q := fmt.Sprintf("DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE subscription_id = ? LIMIT %[3]d)", t.table, t.key, wipeBatch)
		for {
			n, err := exec(q, string(sub))
			if err != nil {
				return dbError("delete "+t.table, t.table, err)
			}
			if n < wipeBatch {
				break
			}
		}
	}
	// The counters go after the subscription row: AddStats writes only
	// for an existing subscription, so a count flushed after this point
	// writes nothing, and one flushed before is deleted here.
	for _, q := range []string{
		"DELETE FROM event_cursors WHERE id = ?",
		"DELETE FROM subscriptions WHERE id = ?",
		"DELETE FROM daily_stats WHERE subscription_id = ?",
	} {
		if _, err := exec(q, string(sub)); err != nil {
			return dbError("close subscription", "subscription", err)
		}
	}
	// An instance's lease goes with it. The instances were deleted first
	// (unlinking them), so the leases left are those of no instance.
	if _, err := exec("DELETE FROM instance_leases WHERE instance_id NOT IN (SELECT id FROM instances)"); err != nil {
		return dbError("delete instance leases", "lease", err)
	}
	return nil
}
