package localqueue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// claimed is a job a runner holds. claim is the token every later write
// is conditioned on.
type claimed struct {
	delivery ports.Delivery
	claim    string
}

// The jobs of a type that may be claimed: running ones whose lease ran
// out (their runner crashed), and pending ones that are due. Two
// conditions, not one with OR: ORed, they could not walk the
// (type, state, run_at) index in order, and each claim sorted every due
// job of the type; with thousands queued that took most of the process's
// time.
const (
	staleCond = `state = 'running' AND locked_until < ?`
	dueCond   = `state = 'pending' AND run_at <= ?`
)

// claim takes the next due job of typ, or returns nil if there is none:
// one whose runner crashed first (they are few and old), then the first
// pending one by run_at. The attempt is counted at once, so that a run
// that crashes the process uses it up like any failure.
func (q *Queue) claim(ctx context.Context, typ string) (*claimed, error) {
	now := time.Now().UTC()
	for _, cond := range []string{staleCond, dueCond} {
		// A read first: an UPDATE takes SQLite's write lock even when it
		// matches nothing, and idle polls would contend with the API's
		// writes; on PostgreSQL it is only worth it for the rare stale
		// jobs.
		if cond == staleCond || !q.postgres {
			found, err := q.any(ctx, typ, cond, now)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
		}
		c, err := q.claimWhere(ctx, typ, cond, now)
		if c != nil || err != nil {
			return c, err
		}
	}
	return nil, nil
}

// any tells whether a job of typ matches cond (with one parameter, at).
func (q *Queue) any(ctx context.Context, typ, cond string, at time.Time) (bool, error) {
	var one int
	err := q.db.QueryRowContext(ctx, q.rebind(`SELECT 1 FROM jobs WHERE type = ? AND `+cond+` LIMIT 1`), typ, at).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", typ, err)
	}
	return true, nil
}

// claimWhere claims the first job of typ, by run_at, that matches cond
// (with one parameter, at); nil if there is none.
func (q *Queue) claimWhere(ctx context.Context, typ, cond string, at time.Time) (*claimed, error) {
	now := time.Now().UTC()
	lock := ""
	if q.postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	token := newToken()
	query := `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?, claim = ?, updated_at = ?
		WHERE id = (SELECT id FROM jobs WHERE type = ? AND ` + cond + ` ORDER BY run_at, id LIMIT 1` + lock + `)
		RETURNING id, payload, trace, attempts, max_attempts`
	var (
		d     ports.Delivery
		trace []byte
	)
	err := q.db.QueryRowContext(ctx, q.rebind(query), now.Add(q.opts.Lease), token, now, typ, at).
		Scan(&d.ID, &d.Payload, &trace, &d.Attempt, &d.MaxAttempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // none, or another runner was quicker
	}
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", typ, err)
	}
	d.Type = typ
	if len(trace) > 0 {
		if err := json.Unmarshal(trace, &d.Trace); err != nil {
			return nil, fmt.Errorf("claim %s: decode trace of %s: %w", typ, d.ID, err)
		}
	}
	return &claimed{delivery: d, claim: token}, nil
}

// renew extends the lease; false if the claim is no longer ours.
func (q *Queue) renew(ctx context.Context, c *claimed) (bool, error) {
	res, err := q.exec(ctx, `UPDATE jobs SET locked_until = ? WHERE id = ? AND claim = ?`,
		time.Now().UTC().Add(q.opts.Lease), c.delivery.ID, c.claim)
	if err != nil {
		return true, fmt.Errorf("renew lease of %s: %w", c.delivery.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return true, fmt.Errorf("renew lease of %s: %w", c.delivery.ID, err)
	}
	return n > 0, nil
}

// complete deletes a job whose handler succeeded.
func (q *Queue) complete(ctx context.Context, c *claimed) error {
	if _, err := q.exec(ctx, `DELETE FROM jobs WHERE id = ? AND claim = ?`, c.delivery.ID, c.claim); err != nil {
		return fmt.Errorf("complete %s: %w", c.delivery.ID, err)
	}
	return nil
}

// bury makes a job dead, keeping its last error for inspection.
func (q *Queue) bury(ctx context.Context, c *claimed, reason string) error {
	_, err := q.exec(ctx, `UPDATE jobs SET state = 'dead', locked_until = NULL, claim = '', last_error = ?, updated_at = ?
		WHERE id = ? AND claim = ?`, reason, time.Now().UTC(), c.delivery.ID, c.claim)
	if err != nil {
		return fmt.Errorf("bury %s: %w", c.delivery.ID, err)
	}
	return nil
}

// reschedule puts a job back to pending at runAt. refund gives back the
// attempt counted at claim time, for runs that must not use one up.
func (q *Queue) reschedule(ctx context.Context, c *claimed, runAt time.Time, refund bool, reason string) error {
	back := 0
	if refund {
		back = 1
	}
	_, err := q.exec(ctx, `UPDATE jobs SET state = 'pending', run_at = ?, attempts = attempts - ?, locked_until = NULL,
		claim = '', last_error = ?, updated_at = ? WHERE id = ? AND claim = ?`,
		runAt.UTC(), back, reason, time.Now().UTC(), c.delivery.ID, c.claim)
	if err != nil {
		return fmt.Errorf("reschedule %s: %w", c.delivery.ID, err)
	}
	return nil
}

// prune deletes the jobs dead for longer than the retention.
func (q *Queue) prune(ctx context.Context) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM jobs WHERE state = 'dead' AND updated_at < ?`,
		time.Now().UTC().Add(-q.opts.DeadRetention))
	if err != nil {
		return 0, fmt.Errorf("prune dead jobs: %w", err)
	}
	return res.RowsAffected()
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
