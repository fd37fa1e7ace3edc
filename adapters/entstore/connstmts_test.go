package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wagate/wagate/test/testdb"
)

// onConn runs fn on one connection of db, as the driver sees it.
func onConn(t *testing.T, db *sql.DB, fn func(c *gatedConn) error) {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error { return fn(dc.(*gatedConn)) }); err != nil {
		t.Fatal(err)
	}
}

// firsts reads the first column of rows and closes them.
func firsts(rows driver.Rows) ([]driver.Value, error) {
	defer rows.Close()
	var out []driver.Value
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, dest[0])
	}
}

func arg(v int64) []driver.NamedValue { return []driver.NamedValue{{Ordinal: 1, Value: v}} }

// A query run again on a connection goes through the statement it kept,
// with each run's own arguments, inside and outside transactions; the
// same query run while its rows are open (nested in the loop over them)
// runs one-shot; a query that does not prepare is not kept; a kept
// statement sees a column added after it was prepared; and a connection
// keeps at most connStmtsSize statements.
func TestSQLiteConnKeepsStatements(t *testing.T) {
	db := openGated(t)
	db.SetMaxOpenConns(1) // one connection: onConn sees what the queries used
	ctx := t.Context()
	for i := 1; i <= 3; i++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?)", i); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (?)", 4); err != nil {
		t.Fatalf("insert in a transaction: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	onConn(t, db, func(c *gatedConn) error {
		if n := c.stmts.order.Len(); n != 1 {
			return fmt.Errorf("statements kept after one insert ran 4 times: %d, want 1", n)
		}
		const q = "SELECT n FROM t WHERE n >= ? ORDER BY n"
		outerRows, err := c.QueryContext(ctx, q, arg(2))
		if err != nil {
			return err
		}
		innerRows, err := c.QueryContext(ctx, q, arg(4)) // its statement is busy
		if err != nil {
			return err
		}
		inner, err := firsts(innerRows)
		if err != nil {
			return err
		}
		outer, err := firsts(outerRows)
		if err != nil {
			return err
		}
		again, err := c.QueryContext(ctx, q, arg(3)) // free again
		if err != nil {
			return err
		}
		last, err := firsts(again)
		if fmt.Sprint(outer, inner, last) != "[2 3 4] [4] [3 4]" || err != nil {
			return fmt.Errorf("runs of one query: %v %v %v (%v), want [2 3 4] [4] [3 4]", outer, inner, last, err)
		}
		return nil
	})

	if _, err := db.ExecContext(ctx, "SELECT n FROM missing WHERE n = ?", 1); err == nil {
		t.Fatal("a query on a missing table: no error")
	}
	var n, m int
	if err := db.QueryRowContext(ctx, "SELECT * FROM t WHERE n = ?", 1).Scan(&n); err != nil {
		t.Fatalf("a query before the ALTER TABLE: %v", err)
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE t ADD COLUMN m INTEGER DEFAULT 7"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT * FROM t WHERE n = ?", 2).Scan(&n, &m); err != nil || n != 2 || m != 7 {
		t.Fatalf("the kept statement after ALTER TABLE: %d %d %v, want 2 7", n, m, err)
	}

	for i := range connStmtsSize + 10 {
		var got int
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("query shape %d: %d, %v", i, got, err)
		}
	}
	onConn(t, db, func(c *gatedConn) error {
		if n := c.stmts.order.Len(); n != connStmtsSize || len(c.stmts.byQuery) != n {
			return fmt.Errorf("statements kept: %d (%d by query), want the bound %d", n, len(c.stmts.byQuery), connStmtsSize)
		}
		return nil
	})
}

// BenchmarkSQLiteKeptStatement runs one indexed read and one write, as
// the gateway's transactions do, through the connection's kept statements
// and one-shot (parsed on every run).
func BenchmarkSQLiteKeptStatement(b *testing.B) {
	db := sql.OpenDB(newGatedConnector(SQLiteURI(b.TempDir()+"/b.db", sqlitePragmas)))
	defer db.Close()
	ctx := b.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT, updated_at TEXT)"); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM s WHERE i < 999) INSERT INTO t SELECT i, 'queued', '' FROM s"); err != nil {
		b.Fatal(err)
	}
	const (
		q = "SELECT status FROM t WHERE id = ?"
		u = "UPDATE t SET status = 'sending', updated_at = ? WHERE id = ? AND status = 'queued'"
	)
	for _, keep := range []bool{false, true} {
		b.Run(fmt.Sprintf("keep=%v", keep), func(b *testing.B) {
			conn, err := db.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			err = conn.Raw(func(dc any) error {
				c := dc.(*gatedConn)
				query := func(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
					return c.stmts.query(ctx, c.inner, q, args)
				}
				exec := func(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
					return c.stmts.exec(ctx, c.inner, q, args)
				}
				if !keep {
					query, exec = c.inner.QueryContext, c.inner.ExecContext
				}
				for i := int64(0); b.Loop(); i++ {
					rows, err := query(ctx, q, arg(i%1000))
					if err != nil {
						return err
					}
					if _, err := firsts(rows); err != nil {
						return err
					}
					if _, err := exec(ctx, u, []driver.NamedValue{{Ordinal: 1, Value: "x"}, {Ordinal: 2, Value: i % 1000}}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// On PostgreSQL a connection keeps the statements it runs too, in and out
// of transactions; a statement the server no longer runs as prepared (a
// migration changed what SELECT * returns) fails once and is prepared
// anew on the next run.
func TestPostgresConnKeepsStatements(t *testing.T) {
	db, err := openPostgresDB(testdb.Postgres(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := tx.QueryRowContext(ctx, "SELECT sum(n) FROM t WHERE n >= $1", 2).Scan(&sum); err != nil || sum != 5 {
		t.Fatalf("a query in a transaction: %d, %v; want 5", sum, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		if n := dc.(*keepingConn).stmts.order.Len(); n != 2 {
			return fmt.Errorf("statements kept: %d, want 2 (the insert, the sum)", n)
		}
		return nil
	})
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}

	var n, m int
	if err := db.QueryRowContext(ctx, "SELECT * FROM t WHERE n = $1", 1).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE t ADD COLUMN m INTEGER DEFAULT 7"); err != nil {
		t.Fatal(err)
	}
	err = db.QueryRowContext(ctx, "SELECT * FROM t WHERE n = $1", 2).Scan(&n, &m)
	if !staleStmt(err) {
		t.Fatalf("the kept SELECT * after ALTER TABLE: %v, want the server's cached-plan error", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT * FROM t WHERE n = $1", 2).Scan(&n, &m); err != nil || n != 2 || m != 7 {
		t.Fatalf("the same query once more: %d %d %v, want 2 7", n, m, err)
	}
}
