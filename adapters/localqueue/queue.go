// Package localqueue is the embedded job queue: durable in wagate's own
// database (the jobs table of ent/migrate/jobs.go, on SQLite or PostgreSQL),
// so that a single binary needs no Redis. It implements ports.Queue,
// ports.Runner and ports.JobCounter.
//
// Runners poll each job type at a short interval and are woken at once by
// an Enqueue in the same process. A claim is one atomic UPDATE … RETURNING
// (with FOR UPDATE SKIP LOCKED on PostgreSQL, so that nodes do not contend);
// it takes a lease that the runner renews while the handler runs. A job
// whose lease ran out (its runner crashed) is claimed again, and its claim
// token keeps the crashed run, should it come back, from recording
// anything. Completed jobs are deleted; dead ones are kept for
// Options.DeadRetention.
//
// Enqueue writes on its own connection, not in a store transaction: the
// outbox pattern of the send path (write the row in the transaction,
// enqueue after commit, a relay re-enqueues what was left behind) works the
// same with the asynq adapter, which cannot share a database transaction
// anyway. On SQLite do not call Enqueue while holding a store transaction:
// that transaction holds the write lock Enqueue waits for.
package localqueue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/wagate/wagate/ports"
)

// Options tune a Queue. Zero values select the defaults.
type Options struct {
	// PollInterval is how often an idle runner looks for due jobs (delayed
	// jobs, retries, other nodes' jobs); default 500 ms. Jobs enqueued in
	// this process wake their runner at once.
	PollInterval time.Duration
	// Lease is how long a claim lasts without renewal, and so how long a
	// crashed runner's job waits before it is claimed again; default 30 s.
	// It is renewed every Lease/3.
	Lease time.Duration
	// DrainTimeout is how long Run waits for running handlers after its
	// ctx ends before abandoning them; default 10 s.
	DrainTimeout time.Duration
	// DeadRetention is how long dead jobs are kept; default 7 days.
	DeadRetention time.Duration
	// Log receives handler failures and storage errors; nil discards them.
	Log *slog.Logger
}

// Queue is the embedded queue. It is safe for concurrent use.
type Queue struct {
	db       *sql.DB
	postgres bool
	opts     Options
	log      *slog.Logger

	mu   sync.Mutex
	wake map[string]map[chan struct{}]struct{} // runners' wake-up channels by job type
}

var _ ports.Queue = (*Queue)(nil)

// The job states stored in the jobs table.
const (
	statePending = "pending"
	stateRunning = "running"
	stateDead    = "dead"
)

// New returns a queue on db, whose schema must be migrated (entstore's
// Migrate creates the jobs table). dialect is ent's name: "sqlite3" or
// "postgres", as entstore.Store.Dialect returns it.
func New(db *sql.DB, dbDialect string, opts Options) (*Queue, error) {
	if dbDialect != dialect.SQLite && dbDialect != dialect.Postgres {
		return nil, fmt.Errorf("localqueue: unsupported dialect %q", dbDialect)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	if opts.DeadRetention <= 0 {
		opts.DeadRetention = 7 * 24 * time.Hour
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{
		db:       db,
		postgres: dbDialect == dialect.Postgres,
		opts:     opts,
		log:      log,
		wake:     map[string]map[chan struct{}]struct{}{},
	}, nil
}

// Enqueue stores j; see ports.Queue.
func (q *Queue) Enqueue(ctx context.Context, j ports.Job) error {
	if err := j.Validate(); err != nil {
		return err
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = ports.DefaultMaxAttempts
	}
	now := time.Now().UTC()
	runAt := j.RunAt.UTC()
	if runAt.Before(now) {
		runAt = now
	}
	var trace any // NULL unless there is something to carry
	if len(j.Trace) > 0 {
		b, err := json.Marshal(j.Trace)
		if err != nil {
			return fmt.Errorf("enqueue %s: encode trace: %w", j.ID, err)
		}
		trace = string(b) // a string, which PostgreSQL's jsonb accepts and bytea would not be
	}
	_, err := q.exec(ctx, `INSERT INTO jobs
		(id, type, payload, trace, state, attempts, max_attempts, run_at, claim, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, '', '', ?, ?)`,
		j.ID, j.Type, j.Payload, trace, statePending, j.MaxAttempts, runAt, now, now)
	switch {
	case sqlgraph.IsUniqueConstraintError(err):
		return ports.Errorf(ports.EConflict, "job %s already exists", j.ID)
	case err != nil:
		return unavailable("enqueue "+j.ID, err)
	}
	if !runAt.After(now) {
		q.notify(j.Type)
	}
	return nil
}

// Depth counts pending jobs per type; the conformance suite
// (test/queuetest) watches jobs through it.
func (q *Queue) Depth(ctx context.Context) (map[string]int, error) {
	rows, err := q.db.QueryContext(ctx, q.rebind(`SELECT type, count(*) FROM jobs WHERE state = ? GROUP BY type`), statePending)
	if err != nil {
		return nil, unavailable("queue depth", err)
	}
	defer rows.Close()
	depth := map[string]int{}
	for rows.Next() {
		var typ string
		var n int
		if err := rows.Scan(&typ, &n); err != nil {
			return nil, fmt.Errorf("queue depth: %w", err)
		}
		depth[typ] = n
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("queue depth", err)
	}
	return depth, nil
}

// JobState reports where a job stands; the conformance suite
// (test/queuetest) watches jobs through it.
func (q *Queue) JobState(ctx context.Context, jobType, id string) (ports.JobState, error) {
	var state string
	err := q.db.QueryRowContext(ctx, q.rebind(`SELECT state FROM jobs WHERE id = ? AND type = ?`), id, jobType).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ports.Errorf(ports.ENotFound, "job %s not found", id)
	case err != nil:
		return "", unavailable("job state "+id, err)
	}
	switch state {
	case statePending:
		return ports.JobPending, nil
	case stateRunning:
		return ports.JobRunning, nil
	case stateDead:
		return ports.JobDead, nil
	}
	return "", fmt.Errorf("job state %s: unknown state %q", id, state)
}

// NewRunner returns a runner for this queue's jobs. Several runners, in
// this process or others, may share a queue.
func (q *Queue) NewRunner() *Runner {
	return &Runner{q: q, handlers: map[string]handler{}}
}

// subscribe returns a channel that receives a signal when a job of typ is
// enqueued in this process.
func (q *Queue) subscribe(typ string) chan struct{} {
	ch := make(chan struct{}, 1)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.wake[typ] == nil {
		q.wake[typ] = map[chan struct{}]struct{}{}
	}
	q.wake[typ][ch] = struct{}{}
	return ch
}

func (q *Queue) unsubscribe(typ string, ch chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.wake[typ], ch)
}

// notify wakes the runners of typ without blocking: a signal already
// pending covers this job too.
func (q *Queue) notify(typ string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for ch := range q.wake[typ] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// unavailable marks a storage failure as EUnavailable, keeping the driver's
// error in the chain for the log.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ports.Errorf(ports.EUnavailable, "the job queue is unavailable"), err)
}

// rebind turns the ? placeholders of query into PostgreSQL's $n.
func (q *Queue) rebind(query string) string {
	if !q.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (q *Queue) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.db.ExecContext(ctx, q.rebind(query), args...)
}
