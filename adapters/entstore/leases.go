package entstore

import (
	"context"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/instancelease"
	"github.com/wagate/wagate/ent/node"
	"github.com/wagate/wagate/ports"
)

// Leases returns the store of node heartbeats and instance leases.
func (s *Store) Leases() ports.LeaseStore { return &leaseStore{s.pool} }

type leaseStore struct{ s *conn }

var _ ports.LeaseStore = (*leaseStore)(nil)

// renewBatch bounds the ids of one Renew statement, well under the bind
// parameter limits of both databases.
const renewBatch = 500

func (l *leaseStore) Heartbeat(ctx context.Context, n ports.NodeID, now time.Time) error {
	c := l.s.client
	err := c.Node.Create().
		SetID(string(n)).SetHeartbeatAt(now).SetStartedAt(now).
		OnConflictColumns(node.FieldID).UpdateHeartbeatAt().
		Exec(ctx)
	if err != nil {
		return dbError("heartbeat", "node", err)
	}
	if now.IsZero() {
		return nil // leaving: the zero time is no clock to purge by
	}
	_, err = c.Node.Delete().Where(node.HeartbeatAtLT(now.Add(-ports.NodeRetention))).Exec(ctx)
	return dbError("forget silent nodes", "node", err)
}

func (l *leaseStore) LiveNodes(ctx context.Context, since time.Time) ([]ports.NodeID, error) {
	ids, err := l.s.client.Node.Query().
		Where(node.HeartbeatAtGT(since)).
		Order(node.ByID()).
		IDs(ctx)
	if err != nil {
		return nil, dbError("list live nodes", "node", err)
	}
	out := make([]ports.NodeID, len(ids))
	for i, id := range ids {
		out[i] = ports.NodeID(id)
	}
	return out, nil
}

// Claim tries, in order: renewing node's own lease, taking over an expired
// one (a new epoch), creating a free one. Each step is one conditional
// statement, which the database runs atomically: of two nodes racing for
// the same expired row, PostgreSQL re-checks the WHERE clause of the second
// after the first commits and SQLite serializes them, so one changes a row
// and the other none; of two inserts, the primary key refuses the second.
func (l *leaseStore) Claim(ctx context.Context, id ports.InstanceID, n ports.NodeID, now, expires time.Time) (ports.Lease, error) {
	c := l.s.client
	renewed, err := c.InstanceLease.Update().
		Where(instancelease.ID(string(id)), instancelease.NodeID(string(n))).
		SetExpiresAt(expires).
		Save(ctx)
	if err != nil {
		return ports.Lease{}, dbError("renew lease", "lease", err)
	}
	if renewed == 0 {
		taken, err := c.InstanceLease.Update().
			Where(instancelease.ID(string(id)), instancelease.NodeIDNEQ(string(n)), instancelease.ExpiresAtLTE(now)).
			SetNodeID(string(n)).SetExpiresAt(expires).AddEpoch(1).
			Save(ctx)
		if err != nil {
			return ports.Lease{}, dbError("take over lease", "lease", err)
		}
		if taken == 0 {
			err := c.InstanceLease.Create().
				SetID(string(id)).SetNodeID(string(n)).SetExpiresAt(expires).SetEpoch(1).
				Exec(ctx)
			if sqlgraph.IsUniqueConstraintError(err) {
				return ports.Lease{}, ports.Errorf(ports.EConflict, "instance %s is held by another node", id)
			}
			if err != nil {
				return ports.Lease{}, dbError("create lease", "lease", err)
			}
		}
	}
	row, err := c.InstanceLease.Get(ctx, string(id))
	if err != nil {
		return ports.Lease{}, dbError("read lease", "lease", err)
	}
	if row.NodeID != string(n) {
		// Released and claimed by another node between the two statements.
		return ports.Lease{}, ports.Errorf(ports.EConflict, "instance %s is held by another node", id)
	}
	return toLease(row), nil
}

// Renew first reads which leases node still holds (locking them on
// PostgreSQL), then extends exactly those, in one transaction: a lease that
// expired meanwhile is lost even if nobody took it yet, so that the caller
// never keeps a connection past a moment where another node could have
// claimed it.
func (l *leaseStore) Renew(ctx context.Context, n ports.NodeID, ids []ports.InstanceID, now, expires time.Time) ([]ports.InstanceID, error) {
	var kept []ports.InstanceID
	for batch := range slices.Chunk(ids, renewBatch) {
		err := l.s.inTx(ctx, func(tx *conn) error {
			c := tx.client
			strs := make([]string, len(batch))
			for i, id := range batch {
				strs[i] = string(id)
			}
			q := c.InstanceLease.Query().Where(
				instancelease.IDIn(strs...), instancelease.NodeID(string(n)), instancelease.ExpiresAtGT(now))
			if tx.postgres() {
				q = q.ForUpdate()
			}
			held, err := q.IDs(ctx)
			if err != nil {
				return dbError("read leases", "lease", err)
			}
			if len(held) == 0 {
				return nil
			}
			if _, err := c.InstanceLease.Update().Where(instancelease.IDIn(held...)).SetExpiresAt(expires).Save(ctx); err != nil {
				return dbError("renew leases", "lease", err)
			}
			for _, id := range held {
				kept = append(kept, ports.InstanceID(id))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return kept, nil
}

func (l *leaseStore) Release(ctx context.Context, id ports.InstanceID, n ports.NodeID, now time.Time) error {
	_, err := l.s.client.InstanceLease.Update().
		Where(instancelease.ID(string(id)), instancelease.NodeID(string(n)), instancelease.ExpiresAtGT(now)).
		SetExpiresAt(now).
		Save(ctx)
	return dbError("release lease", "lease", err)
}

func (l *leaseStore) Leases(ctx context.Context, now time.Time) ([]ports.Lease, error) {
	rows, err := l.s.client.InstanceLease.Query().
		Where(instancelease.ExpiresAtGT(now)).
		Order(instancelease.ByID(sql.OrderAsc())).
		All(ctx)
	if err != nil {
		return nil, dbError("list leases", "lease", err)
	}
	out := make([]ports.Lease, len(rows))
	for i, r := range rows {
		out[i] = toLease(r)
	}
	return out, nil
}

func toLease(r *ent.InstanceLease) ports.Lease {
	return ports.Lease{Instance: ports.InstanceID(r.ID), Node: ports.NodeID(r.NodeID), ExpiresAt: r.ExpiresAt.UTC(), Epoch: r.Epoch}
}
