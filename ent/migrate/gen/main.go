// Command gen writes the next versioned migration of each SQL dialect from
// the ent schema, so that ent/migrate/migrations always describes the schema:
//
//	go run ./ent/migrate/gen -name add_webhooks
//
// It replays the existing migrations on an empty dev database (SQLite in a
// temporary file; PostgreSQL in a temporary database created on -pg, which
// defaults to $TEST_DATABASE_URL, and dropped after), diffs the result with
// the ent schema and writes the difference as NNNN_<name>.sql plus atlas.sum.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/wagate/wagate/ent/migrate"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fl := flag.NewFlagSet("gen", flag.ContinueOnError)
	name := fl.String("name", "", "name of the new migration, e.g. add_webhooks (required)")
	dir := fl.String("dir", "ent/migrate/migrations", "root of the migration directories")
	pg := fl.String("pg", getenv("TEST_DATABASE_URL"), "PostgreSQL URL on which a temporary dev database is created")
	dialects := fl.String("dialects", "sqlite,postgres", "comma-separated dialects to generate")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("-name is required")
	}
	for _, d := range strings.Split(*dialects, ",") {
		var err error
		switch strings.TrimSpace(d) {
		case "sqlite":
			err = diffSQLite(ctx, filepath.Join(*dir, "sqlite"), *name, stdout)
		case "postgres":
			err = diffPostgres(ctx, *pg, filepath.Join(*dir, "postgres"), *name, stdout)
		default:
			err = fmt.Errorf("unknown dialect %q", d)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}

// diffSQLite uses a temporary file rather than ":memory:" because every
// pooled connection to an in-memory database would see its own empty one.
func diffSQLite(ctx context.Context, dir, name string, stdout io.Writer) error {
	tmp, err := os.MkdirTemp("", "wagate-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dsn := "file:" + filepath.Join(tmp, "dev.db") + "?_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return diff(ctx, entsql.OpenDB(dialect.SQLite, db), dir, name, stdout)
}

func diffPostgres(ctx context.Context, base, dir, name string, stdout io.Writer) (err error) {
	if base == "" {
		return errors.New("no PostgreSQL URL: set TEST_DATABASE_URL or -pg")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	dbName := "wagate_gen_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbName); err != nil {
		return fmt.Errorf("create dev database: %w", err)
	}
	defer func() {
		_, derr := admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
		err = errors.Join(err, derr)
	}()
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("parse PostgreSQL URL: %w", err)
	}
	u.Path = "/" + dbName
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	return diff(ctx, entsql.OpenDB(dialect.Postgres, db), dir, name, stdout)
}

// diff replays dir on the empty dev database behind drv and writes the
// changes the ent schema still needs as the next numbered file.
func diff(ctx context.Context, drv dialect.Driver, dir, name string, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	local, err := atlasmigrate.NewLocalDir(dir)
	if err != nil {
		return err
	}
	next, err := nextVersion(dir)
	if err != nil {
		return err
	}
	nameTmpl := template.Must(template.New("name").Parse(fmt.Sprintf("%04d{{ with .Name }}_{{ . }}{{ end }}.sql", next)))
	format, err := atlasmigrate.NewTemplateFormatter(nameTmpl, atlasmigrate.DefaultFormatter[0].C)
	if err != nil {
		return err
	}
	m, err := schema.NewMigrate(drv,
		schema.WithDir(local),
		schema.WithFormatter(format),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(drv.Dialect()),
		schema.WithErrNoPlan(true),
	)
	if err != nil {
		return err
	}
	// AllTables, not ent's Tables: the jobs table has no ent schema.
	err = m.NamedDiff(ctx, name, migrate.AllTables...)
	switch {
	case errors.Is(err, atlasmigrate.ErrNoPlan):
		fmt.Fprintf(stdout, "%s: no changes\n", dir)
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "%s: wrote %04d_%s.sql\n", dir, next, name)
	return nil
}

// nextVersion is one more than the number of migrations in dir.
func nextVersion(dir string) (int, error) {
	files, err := fs.Glob(os.DirFS(dir), "*.sql")
	if err != nil {
		return 0, err
	}
	return len(files) + 1, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
