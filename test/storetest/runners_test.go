package storetest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/ent/migrate"
)

// open opens a store on url (empty: SQLite in dir), closed when t ends.
func open(t *testing.T, url, dir string) *entstore.Store {
	t.Helper()
	st, err := entstore.Open(t.Context(), entstore.Options{URL: url, DataDir: dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

func migrated(t *testing.T, st *entstore.Store) *entstore.Store {
	t.Helper()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// checkMigrations migrates an empty database and checks that the migrations
// create exactly the ent schema (no drift), that Pending tells what is left,
// and that a second Migrate changes nothing.
func checkMigrations(t *testing.T, st *entstore.Store) {
	ctx := t.Context()
	pending, err := st.Pending(ctx)
	if err != nil {
		t.Fatalf("pending before migrate: %v", err)
	}
	if len(pending) == 0 || pending[0] != "0001_init" {
		t.Fatalf("pending before migrate: got %v, want [0001_init …]", pending)
	}
	// The drift check must see a difference where there is one.
	if drift := schemaDrift(t, st); !strings.Contains(drift, "CREATE TABLE") {
		t.Fatalf("drift of an empty database: got %q, want CREATE TABLE statements", drift)
	}
	migrated(t, st)
	if pending, err = st.Pending(ctx); err != nil || len(pending) != 0 {
		t.Fatalf("pending after migrate: got %v, %v; want none", pending, err)
	}
	before := appliedCount(t, st)
	migrated(t, st)
	if after := appliedCount(t, st); after != before {
		t.Errorf("applied migrations after a second migrate: got %d, want %d", after, before)
	}
	if drift := schemaDrift(t, st); drift != "" {
		t.Errorf("the migrations differ from the ent schema; ent would still run:\n%s\n"+
			"regenerate with: go run ./ent/migrate/gen -name <change>", drift)
	}
}

// schemaDrift returns the statements ent's auto-migration would run against
// the migrated database: none when the migrations match the ent schema.
func schemaDrift(t *testing.T, st *entstore.Store) string {
	t.Helper()
	var buf bytes.Buffer
	// AllTables, not ent's Tables: the jobs table has no ent schema.
	w := &schema.WriteDriver{Writer: &buf, Driver: entsql.OpenDB(st.Dialect(), st.DB())}
	if err := migrate.Create(t.Context(), migrate.NewSchema(w), migrate.AllTables); err != nil {
		t.Fatalf("diff schema: %v", err)
	}
	var stmts []string
	for line := range strings.Lines(buf.String()) {
		if l := strings.TrimSpace(line); l != "" && l != "BEGIN;" && l != "COMMIT;" {
			stmts = append(stmts, l)
		}
	}
	return strings.Join(stmts, "\n")
}

func appliedCount(t *testing.T, st *entstore.Store) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM wagate_schema_migrations").Scan(&n); err != nil {
		t.Fatalf("count applied migrations: %v", err)
	}
	return n
}
