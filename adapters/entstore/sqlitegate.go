package entstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// SQLite takes one writer at a time. A writer that finds the file locked
// is put to sleep by SQLite's busy handler for 1, 2, 5, 10, 15 ms… and
// tries again, however soon the lock is free: under a steady write load
// (claims, receipts, the queue, whatsmeow's Signal sessions) those sleeps
// were a large share of every write's time (a sixth of a WhatsApp send's
// in the drain bench). The gate makes the writers of one database wait
// their turn in the process instead, each woken the moment the one before
// it finishes; SQLite's own locking stays underneath, for other processes.
//
// A write is a transaction (all begin IMMEDIATE, taking the write lock at
// BEGIN: sqlitePragmas), or a statement outside one that is not a SELECT.
// Reads outside transactions pass: under WAL they never wait for a writer.

// writeGate admits one writer at a time, in the order they come.
type writeGate chan struct{}

// gateWait bounds a wait at the gate as busy_timeout bounded SQLite's
// (sqlitePragmas): a writer that cannot get in fails as "locked" rather
// than wait for ever, should a transaction ever wait on a write of its
// own goroutine outside it.
const gateWait = 10 * time.Second

// errLocked is what a writer gets after gateWait.
var errLocked = errors.New("database is locked: no turn to write after 10s")

func (g writeGate) enter(ctx context.Context) error {
	t := time.NewTimer(gateWait)
	defer t.Stop()
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errLocked
	}
}

func (g writeGate) leave() { <-g }

// gatedConnector opens modernc's connections to one database, all behind
// one gate.
type gatedConnector struct {
	dsn  string
	gate writeGate
}

func newGatedConnector(dsn string) *gatedConnector {
	return &gatedConnector{dsn: dsn, gate: make(writeGate, 1)}
}

var sqliteDriver = &sqlite.Driver{}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	inner, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &gatedConn{inner: inner.(sqliteConn), gate: c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return sqliteDriver }

// sqliteConn is what modernc's connection offers and the gate passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// gatedConn is one connection; database/sql uses a connection from one
// goroutine at a time, so inTx needs no lock.
type gatedConn struct {
	inner sqliteConn
	gate  writeGate
	inTx  bool
	stmts connStmts // statements it ran, to run again (connstmts.go)
}

var _ sqliteConn = (*gatedConn)(nil)

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &gatedStmt{inner: s.(sqliteStmt), conn: c, read: isRead(query)}, nil
}

func (c *gatedConn) Close() error {
	c.stmts.close()
	return c.inner.Close()
}

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	tx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{inner: tx, conn: c}, nil
}

func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx {
		return c.stmts.exec(ctx, c.inner, query, args)
	}
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	defer c.gate.leave()
	return c.stmts.exec(ctx, c.inner, query, args)
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.inTx || isRead(query) {
		return c.stmts.query(ctx, c.inner, query, args)
	}
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := c.stmts.query(ctx, c.inner, query, args)
	return c.gate.holdWhile(rows, err)
}

func (c *gatedConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *gatedConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

func (c *gatedConn) IsValid() bool { return c.inner.IsValid() }

// holdWhile keeps the gate (entered by the caller) until rows are closed:
// a statement such as UPDATE … RETURNING writes until then. On an error it
// leaves at once.
func (g writeGate) holdWhile(rows driver.Rows, err error) (driver.Rows, error) {
	if err != nil {
		g.leave()
		return nil, err
	}
	return &gatedRows{Rows: rows, leave: sync.OnceFunc(g.leave)}, nil
}

type gatedTx struct {
	inner driver.Tx
	conn  *gatedConn
}

func (t *gatedTx) Commit() error {
	defer t.end()
	return t.inner.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.end()
	return t.inner.Rollback()
}

func (t *gatedTx) end() {
	t.conn.inTx = false
	t.conn.gate.leave()
}

// sqliteStmt is what modernc's statement offers.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// gatedStmt is a prepared statement; whether it runs inside a
// transaction is its connection's state when it runs.
type gatedStmt struct {
	inner sqliteStmt
	conn  *gatedConn
	read  bool
}

func (s *gatedStmt) Close() error  { return s.inner.Close() }
func (s *gatedStmt) NumInput() int { return s.inner.NumInput() }

func (s *gatedStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("entstore: Exec without a context")
}

func (s *gatedStmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("entstore: Query without a context")
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.conn.inTx {
		return s.inner.ExecContext(ctx, args)
	}
	if err := s.conn.gate.enter(ctx); err != nil {
		return nil, err
	}
	defer s.conn.gate.leave()
	return s.inner.ExecContext(ctx, args)
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.conn.inTx || s.read {
		return s.inner.QueryContext(ctx, args)
	}
	if err := s.conn.gate.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.inner.QueryContext(ctx, args)
	return s.conn.gate.holdWhile(rows, err)
}

// gatedRows leaves the gate when closed (database/sql closes rows once,
// but a driver may be asked again after an error).
type gatedRows struct {
	driver.Rows
	leave func()
}

func (r *gatedRows) Close() error {
	defer r.leave()
	return r.Rows.Close()
}

// isRead reports whether query is a plain SELECT, which writes nothing.
// Anything else (WITH, which may wrap a write, PRAGMA, INSERT …
// RETURNING) counts as a write.
func isRead(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "select")
}
