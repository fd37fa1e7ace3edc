package entstore

import (
	"database/sql"
	"fmt"
	"testing"
)

func TestStmtCache(t *testing.T) {
	st, err := Open(t.Context(), Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	c := &stmtCache{db: st.DB(), m: map[string]*sql.Stmt{}}
	ctx := t.Context()

	query := func(q string, args ...any) int {
		t.Helper()
		var n int
		rows, err := c.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("query %q: %v", q, err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("query %q: got no row, want one", q)
		}
		if err := rows.Scan(&n); err != nil {
			t.Fatalf("scan %q: %v", q, err)
		}
		return n
	}

	if got := query("SELECT 7"); got != 7 || len(c.m) != 0 {
		t.Errorf("query without arguments: got %d with %d cached, want 7 with none cached", got, len(c.m))
	}
	for i := range 2 {
		if got := query("SELECT ?", i); got != i {
			t.Errorf("prepared query: got %d, want %d", got, i)
		}
	}
	if len(c.m) != 1 {
		t.Errorf("cached after two runs of one text: got %d, want 1", len(c.m))
	}

	if _, err := c.QueryContext(ctx, "SELECT n FROM missing WHERE n = ?", 1); err == nil {
		t.Errorf("query on a missing table: got nil error, want one")
	}
	if len(c.m) != 1 {
		t.Errorf("cached after a failed preparation: got %d, want 1", len(c.m))
	}

	// Past the bound, new texts still run, unprepared.
	for i := range maxPrepared + 5 {
		if got := query(fmt.Sprintf("SELECT ? + %d", i), 1); got != i+1 {
			t.Fatalf("query %d: got %d, want %d", i, got, i+1)
		}
	}
	if len(c.m) != maxPrepared {
		t.Errorf("cache size: got %d, want the bound %d", len(c.m), maxPrepared)
	}
	if err := c.close(); err != nil || len(c.m) != 0 {
		t.Errorf("close: got %v with %d left, want nil with none", err, len(c.m))
	}
}
