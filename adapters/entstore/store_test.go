package entstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

func TestOpenRejectsUnknownSchemes(t *testing.T) {
	for _, url := range []string{"mysql://root@localhost/wagate", "sqlite::memory:", "://nonsense"} {
		_, err := Open(t.Context(), Options{URL: url, DataDir: t.TempDir()})
		if err == nil {
			t.Errorf("open %q: got nil error, want one", url)
		}
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	_, err := Open(t.Context(), Options{URL: "postgres://u:s3cret@%zz/db"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %v, want an error without the password", err)
	}
}

func TestOpenSQLiteCreatesPrivateDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	st, err := Open(t.Context(), Options{DataDir: dir})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer st.Close()
	if err := st.Ping(t.Context()); err != nil {
		t.Errorf("ping: got %v, want nil", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("stat data dir: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir mode: got %o, want 700", perm)
	}
	if _, err := os.Stat(filepath.Join(dir, "wagate.db")); err != nil {
		t.Errorf("database file: got %v, want it created", err)
	}
	if st.Dialect() != "sqlite3" {
		t.Errorf("dialect: got %q, want sqlite3", st.Dialect())
	}
}

func TestPageLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{0, ports.DefaultPageLimit}, {-1, ports.DefaultPageLimit}, {1, 1},
		{ports.MaxPageLimit, ports.MaxPageLimit}, {ports.MaxPageLimit + 1, ports.MaxPageLimit},
	} {
		if got := pageLimit(ports.PageRequest{Limit: tc.in}); got != tc.want {
			t.Errorf("limit %d: got %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	id := "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	got, err := decodeCursor(encodeCursor(id))
	if err != nil || got != id {
		t.Errorf("round trip: got %q, %v; want %q, nil", got, err, id)
	}
	for _, bad := range []string{"not base64!", "_w", encodeCursor(strings.Repeat("x", 65))} {
		if _, err := decodeCursor(bad); !ports.IsCode(err, ports.EInvalid) {
			t.Errorf("cursor %q: got %v, want EInvalid", bad, err)
		}
	}
}

func TestDBErrorKeepsPortErrors(t *testing.T) {
	in := ports.ReasonError(ports.EForbidden, "instance_limit_reached", "limit")
	if got := dbError("op", "thing", in); got != error(in) {
		t.Errorf("got %v, want the port error untouched", got)
	}
	if got := dbError("op", "thing", os.ErrClosed); !ports.IsCode(got, ports.EInternal) {
		t.Errorf("driver error: got code %q, want internal", ports.ErrorCodeOf(got))
	}
}

// TestOpenSQLiteInDirectoryWithURISyntax: a data directory whose name holds
// what a SQLite URI reads as syntax ("#", "?", "%") still gets its own
// database file, with the pragmas applied (before, "x#01" cut the path at
// "#" and two data directories shared one stray file, without WAL).
func TestOpenSQLiteInDirectoryWithURISyntax(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub#01?a=b%41")
	st, err := Open(t.Context(), Options{DataDir: dir})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "wagate.db")); err != nil {
		t.Fatalf("database file in the data directory: %v", err)
	}
	var mode string
	if err := st.db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode: got %q, %v; want wal (the pragmas reached the driver)", mode, err)
	}
}

// The device stores' pool is a share of the node's PostgreSQL
// connections, not more on top of them.
func TestPostgresPoolsShareMaxConns(t *testing.T) {
	for _, c := range []struct{ max, main, devices int }{
		{0, 12, 4}, {16, 12, 4}, {32, 24, 8}, {4, 2, 2}, {1, 2, 2},
	} {
		main, devices := postgresPools(c.max)
		if main != c.main || devices != c.devices {
			t.Errorf("postgresPools(%d) = %d, %d; want %d, %d", c.max, main, devices, c.main, c.devices)
		}
	}
}
