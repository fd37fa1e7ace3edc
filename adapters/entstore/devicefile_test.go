package entstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// oldLayout puts tables shaped as whatsmeow's (a device, sessions that
// reference it, an index) with rows into db, as versions before
// DeviceFile kept them in wagate.db.
func oldLayout(t *testing.T, db *sql.DB, session string) {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY, registration_id INTEGER NOT NULL)",
		"CREATE TABLE whatsmeow_sessions (our_jid TEXT REFERENCES whatsmeow_device(jid) ON DELETE CASCADE, their_id TEXT, session BLOB, PRIMARY KEY (our_jid, their_id))",
		"CREATE INDEX whatsmeow_sessions_their ON whatsmeow_sessions (their_id)",
		"INSERT INTO whatsmeow_device VALUES ('1555:1@s.whatsapp.net', 7)",
		fmt.Sprintf("INSERT INTO whatsmeow_sessions VALUES ('1555:1@s.whatsapp.net', '1666.0', X'%x')", session),
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// schemaOf lists the whatsmeow tables and indexes of db.
func schemaOf(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT type || ' ' || name FROM sqlite_master WHERE name LIKE 'whatsmeow%' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func session(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b []byte
	if err := db.QueryRowContext(context.Background(), "SELECT session FROM whatsmeow_sessions WHERE their_id = '1666.0'").Scan(&b); err != nil {
		t.Fatalf("read the session: %v", err)
	}
	return string(b)
}

// MoveDeviceTables moves whatsmeow's tables, rows and indexes from wagate.db into
// DeviceFile; after a crash between the copy and the drop (both files
// hold them) the next Migrate keeps DeviceFile's and drops the old ones;
// a fresh data directory has no whatsmeow table in wagate.db.
func TestDeviceTablesMove(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.MoveDeviceTables(ctx); err != nil {
		t.Fatalf("a fresh directory: %v", err)
	}
	if got := schemaOf(t, st.DB()); got != "" {
		t.Fatalf("whatsmeow tables in a fresh wagate.db: %s", got)
	}

	oldLayout(t, st.DB(), "ratchet-1")
	if err := st.MoveDeviceTables(ctx); err != nil {
		t.Fatalf("migrate the old layout: %v", err)
	}
	const want = "index whatsmeow_sessions_their, table whatsmeow_device, table whatsmeow_sessions"
	if got := schemaOf(t, st.DeviceDB()); got != want {
		t.Errorf("%s after the move: %s, want %s", DeviceFile, got, want)
	}
	if got := schemaOf(t, st.DB()); got != "" {
		t.Errorf("wagate.db after the move: %s, want no whatsmeow table", got)
	}
	if got := session(t, st.DeviceDB()); got != "ratchet-1" {
		t.Errorf("the moved session: %q", got)
	}
	var fk int
	if err := st.DeviceDB().QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_list('whatsmeow_sessions')").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("the moved table's foreign key: %d, %v", fk, err)
	}

	// A crash after the copy: both hold the tables; DeviceFile's win.
	oldLayout(t, st.DB(), "stale")
	if err := st.MoveDeviceTables(ctx); err != nil {
		t.Fatalf("migrate after a crash half way: %v", err)
	}
	if got := schemaOf(t, st.DB()); got != "" {
		t.Errorf("wagate.db after the second start: %s", got)
	}
	if got := session(t, st.DeviceDB()); got != "ratchet-1" {
		t.Errorf("the session after the second start: %q, want the moved one kept", got)
	}
}
