package entstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
)

// maxPrepared bounds the statement cache. The queries ent generates come
// in a few hundred shapes at most; a page limit or an IN list is part of
// the text, so the rare shape past the bound runs unprepared instead of
// growing the cache without end.
const maxPrepared = 512

// preparingDriver is ent's SQL driver with the queries that run outside
// transactions going through prepared statements. On PostgreSQL that is
// one round trip where lib/pq spends two on a query with arguments (parse,
// then bind and execute), and the server skips parsing and, after a few
// runs, planning: on the read path of every request that halves the work.
// Transactions keep ent's plain driver: they are the write paths, whose
// statements vary more and run far less often. Named prepared statements
// need a session per connection: a PgBouncer in front must run in session
// mode, or in transaction mode from version 1.21 with
// max_prepared_statements set.
type preparingDriver struct {
	*entsql.Driver             // Tx, Close and Dialect
	prepared       entsql.Conn // Exec and Query outside transactions
	stmts          *stmtCache
}

func newPreparingDriver(dia string, db *sql.DB) *preparingDriver {
	c := &stmtCache{db: db, m: map[string]*sql.Stmt{}}
	return &preparingDriver{Driver: entsql.OpenDB(dia, db), prepared: entsql.Conn{ExecQuerier: c}, stmts: c}
}

// Exec runs a statement, prepared when it has arguments.
func (d *preparingDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.prepared.Exec(ctx, query, args, v)
}

// Query runs a query, prepared when it has arguments.
func (d *preparingDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.prepared.Query(ctx, query, args, v)
}

// ExecContext is what ent's ExecContext calls.
func (d *preparingDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.stmts.ExecContext(ctx, query, args...)
}

// QueryContext is what ent's QueryContext calls.
func (d *preparingDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.stmts.QueryContext(ctx, query, args...)
}

// Close closes the statements, then the pool.
func (d *preparingDriver) Close() error {
	return errors.Join(d.stmts.close(), d.Driver.Close())
}

// stmtCache is an entsql.ExecQuerier over a pool that prepares each query
// text once; database/sql prepares it again on each pooled connection as
// needed. Queries without arguments run as they are: the simple protocol
// is one round trip already.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query, len(args))
	switch {
	case err != nil:
		return nil, err
	case st == nil:
		return c.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query, len(args))
	switch {
	case err != nil:
		return nil, err
	case st == nil:
		return c.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// stmt returns the prepared statement for query, or nil when the query is
// to run unprepared. A failed preparation is not cached: running the query
// would have failed alike (a table not migrated yet), and the next call
// tries again.
func (c *stmtCache) stmt(ctx context.Context, query string, nargs int) (*sql.Stmt, error) {
	if nargs == 0 {
		return nil, nil
	}
	c.mu.RLock()
	st, ok := c.m[query]
	full := len(c.m) >= maxPrepared
	c.mu.RUnlock()
	if ok || full {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// scanner is the Scan of *sql.Row and *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryRow runs a hand-written query on s (the pool or a transaction)
// and hands its first row to scan; sql.ErrNoRows if there is none.
func (s *conn) queryRow(ctx context.Context, query string, args []any, scan func(scanner) error) error {
	rows, err := s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Close()
}
