package entstore

import (
	"container/list"
	"context"
	"database/sql/driver"
)

// A query with arguments that the caller did not prepare costs each time
// it runs: modernc's SQLite parses it again (in the drain bench, parsing
// was a fifth of the whole process's CPU time, more than the Signal
// encryption), and lib/pq spends two round trips on it (parse, then bind
// and execute) where a prepared statement takes one. ent's statements in
// transactions, whatsmeow's (go.mau.fi's dbutil never prepares) and the
// embedded queue's all run that way. So each connection keeps the
// statements it ran, by query text, and runs a query again through its
// statement.

// connStmtsSize bounds the statements one connection keeps. The gateway,
// the queue and whatsmeow run a few hundred query shapes at most; a page
// limit or an IN list is part of the text, so the rare shapes push each
// other out rather than grow the cache.
const connStmtsSize = 256

// stmtConn is a driver connection whose statements can be kept.
type stmtConn interface {
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
}

// keptStmt is what a kept statement must offer.
type keptStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// connStmts is one connection's prepared statements, the most recently
// used at the front of order. A connection is used by one goroutine at a
// time (database/sql), so it needs no lock.
type connStmts struct {
	order   list.List // of *connStmt
	byQuery map[string]*list.Element
	// stale, when set, reports an error after which a statement is not
	// to be run again: it is forgotten (not closed: the connection may
	// be in a failed transaction) and prepared anew on the next run.
	stale func(error) bool
}

// connStmt is a kept statement. busy marks it while rows of it are open:
// the statement is then in use, and the same query on the same connection
// (a query nested in the loop over another's rows) runs one-shot.
type connStmt struct {
	query string
	stmt  keptStmt
	busy  bool
}

// get returns the statement to run query through, preparing it on first
// use; nil when the query runs one-shot: it has no arguments (a script or
// a pragma, which may hold several statements), its statement is busy, or
// it does not prepare (the one-shot run then reports the same error).
func (cs *connStmts) get(ctx context.Context, inner stmtConn, query string, nargs int) *connStmt {
	if nargs == 0 {
		return nil
	}
	if e, ok := cs.byQuery[query]; ok {
		s := e.Value.(*connStmt)
		if s.busy {
			return nil
		}
		cs.order.MoveToFront(e)
		return s
	}
	if cs.order.Len() >= connStmtsSize && !cs.evict() {
		return nil
	}
	st, err := inner.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	ks, ok := st.(keptStmt)
	if !ok {
		st.Close()
		return nil
	}
	if cs.byQuery == nil {
		cs.byQuery = map[string]*list.Element{}
	}
	s := &connStmt{query: query, stmt: ks}
	cs.byQuery[query] = cs.order.PushFront(s)
	return s
}

// evict closes the least recently used statement that is not busy, and
// reports whether there was one.
func (cs *connStmts) evict() bool {
	for e := cs.order.Back(); e != nil; e = e.Prev() {
		s := e.Value.(*connStmt)
		if s.busy {
			continue
		}
		cs.order.Remove(e)
		delete(cs.byQuery, s.query)
		s.stmt.Close()
		return true
	}
	return false
}

// close closes every kept statement (the connection closes).
func (cs *connStmts) close() {
	for e := cs.order.Front(); e != nil; e = e.Next() {
		e.Value.(*connStmt).stmt.Close()
	}
	cs.order.Init()
	cs.byQuery = nil
}

// exec runs a statement on inner through its kept statement.
func (cs *connStmts) exec(ctx context.Context, inner stmtConn, query string, args []driver.NamedValue) (driver.Result, error) {
	s := cs.get(ctx, inner, query, len(args))
	if s == nil {
		return inner.ExecContext(ctx, query, args)
	}
	s.busy = true
	res, err := s.stmt.ExecContext(ctx, args)
	s.busy = false
	cs.check(s, err)
	return res, err
}

// query runs a query on inner through its kept statement, busy until
// its rows are closed.
func (cs *connStmts) query(ctx context.Context, inner stmtConn, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := cs.get(ctx, inner, query, len(args))
	if s == nil {
		return inner.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		cs.check(s, err)
		return nil, err
	}
	s.busy = true
	return &stmtRows{Rows: rows, s: s}, nil
}

// check forgets s after an error that makes it stale.
func (cs *connStmts) check(s *connStmt, err error) {
	if err == nil || cs.stale == nil || !cs.stale(err) {
		return
	}
	if e, ok := cs.byQuery[s.query]; ok && e.Value == s {
		cs.order.Remove(e)
		delete(cs.byQuery, s.query)
	}
}

// stmtRows frees its statement for the next run when closed.
type stmtRows struct {
	driver.Rows
	s *connStmt
}

func (r *stmtRows) Close() error {
	defer func() { r.s.busy = false }()
	return r.Rows.Close()
}
