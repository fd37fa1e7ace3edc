package entstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func openGated(t *testing.T) *sql.DB {
	t.Helper()
	db := sql.OpenDB(newGatedConnector(SQLiteURI(filepath.Join(t.TempDir(), "g.db"), sqlitePragmas)))
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return db
}

// A writer that comes while a transaction is open waits at the gate, not
// in SQLite's busy sleeps, and goes in once the transaction ends; a read
// passes meanwhile; a writer whose context ends while it waits gets the
// context's error and leaves no turn taken.
func TestSQLiteWritersTakeTurns(t *testing.T) {
	db := openGated(t)
	ctx := t.Context()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("insert in the transaction: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("a read while the transaction is open: got %d, %v; want 0 rows, no wait", n, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(short, "INSERT INTO t VALUES (9)"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write whose context ends at the gate: got %v, want the deadline", err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (2)")
		waited <- err
	}()
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("the waiting write: %v", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT n FROM t ORDER BY rowid")
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("rows: got %v, want [1 2] (the given-up write left nothing)", got)
	}
}

// A writing query outside a transaction (UPDATE … RETURNING) keeps its
// turn until its rows are closed.
func TestSQLiteWritingQueryHoldsTheGate(t *testing.T) {
	db := openGated(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "UPDATE t SET n = n + 10 RETURNING n")
	if err != nil {
		t.Fatalf("update returning: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := db.BeginTx(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a transaction while the rows are open: got %v, want the deadline", err)
	}
	for rows.Next() {
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatalf("rows: %v", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("a transaction once the rows are closed: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}

func TestIsRead(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                             true,
		"  select * FROM t":                    true,
		"(SELECT 1) UNION (SELECT 2)":          true,
		"WITH c AS (SELECT 1) SELECT * FROM c": false,
		"UPDATE t SET n = 1 RETURNING n":       false,
		"INSERT INTO t VALUES (1)":             false,
		"PRAGMA journal_mode":                  false,
		"sel":                                  false,
	} {
		if got := isRead(q); got != want {
			t.Errorf("isRead(%q) = %v, want %v", q, got, want)
		}
	}
}

// A writer that gets no turn within gateWait fails as the database being
// busy, which the stores report as unavailable (503), as SQLite's own
// busy timeout did.
func TestGateTimeoutIsUnavailable(t *testing.T) {
	err := dbError("write", "row", errLocked)
	if !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("got %v, want EUnavailable", err)
	}
}
