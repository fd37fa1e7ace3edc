package entstore

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"
)

// keepingConnector opens lib/pq's connections, each keeping the
// statements it runs (connstmts.go): a query with arguments then costs
// one round trip instead of two, in transactions and in whatsmeow's
// device stores too.
type keepingConnector struct{ inner driver.Connector }

func newKeepingConnector(dsn string) (*keepingConnector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &keepingConnector{inner: c}, nil
}

func (c *keepingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := inner.(pqConn)
	if !ok {
		inner.Close()
		return nil, errors.New("entstore: lib/pq's connection lacks an interface it had")
	}
	return &keepingConn{inner: pc, stmts: connStmts{stale: staleStmt}}, nil
}

func (c *keepingConnector) Driver() driver.Driver { return c.inner.Driver() }

// pqConn is what lib/pq's connection offers and keepingConn passes on.
type pqConn interface {
	driver.Conn
	stmtConn
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// keepingConn is one connection; database/sql uses it from one goroutine
// at a time.
type keepingConn struct {
	inner pqConn
	stmts connStmts
}

var _ pqConn = (*keepingConn)(nil)

func (c *keepingConn) Prepare(query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(context.Background(), query)
}

func (c *keepingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// Close closes the kept statements only with a sound connection: the
// server drops a session's statements with it anyway.
func (c *keepingConn) Close() error {
	if c.inner.IsValid() {
		c.stmts.close()
	}
	return c.inner.Close()
}

func (c *keepingConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *keepingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

func (c *keepingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.stmts.exec(ctx, c.inner, query, args)
}

func (c *keepingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.stmts.query(ctx, c.inner, query, args)
}

func (c *keepingConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *keepingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

func (c *keepingConn) IsValid() bool { return c.inner.IsValid() }

// staleStmt reports whether err says the server no longer runs a kept
// statement as prepared: a migration changed the columns it returns
// ("cached plan must not change result type"), or the statement is gone
// (a pooler in transaction mode). The statement is prepared again on its
// next run.
func staleStmt(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "0A000" || pe.Code == "26000")
}

func (c *keepingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.inner.CheckNamedValue(nv)
}
