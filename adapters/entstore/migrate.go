package entstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/wagate/wagate/ent/migrate/migrations"
)

// The migrator is ours rather than atlas's executor: it needs no atlas
// revision table, works the same on both databases, and is small enough to
// read. Each file runs in its own transaction and is recorded in the same
// one, so a failed file leaves nothing behind and is retried next start.

const migrationsTable = "wagate_schema_migrations"

// migrateLockKey is the PostgreSQL advisory lock that keeps two nodes
// starting at once from applying the same file twice ("wagate" + 1).
const migrateLockKey int64 = 0x7761676174650001

type migration struct {
	version string // the file name without .sql, e.g. 0001_init
	sql     []byte
}

// Migrate applies the embedded migrations of the store's dialect that are
// not yet applied, in name order. Running it again is a no-op.
func (s *Store) Migrate(ctx context.Context) error {
	files, err := s.migrations()
	if err != nil {
		return err
	}
	// One connection throughout: a PostgreSQL advisory lock belongs to its
	// session.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.pool.postgres() {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("migrate: take lock: %w", err)
		}
		defer func() {
			// Unlock even when ctx is done; closing the session would too.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
		}()
	}
	if _, err := conn.ExecContext(ctx, s.createMigrationsTable()); err != nil {
		return fmt.Errorf("migrate: create %s: %w", migrationsTable, err)
	}
	for _, m := range files {
		applied, err := s.apply(ctx, conn, m)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.version, err)
		}
		if applied {
			s.log.InfoContext(ctx, "applied migration", "version", m.version, "dialect", s.dialect)
		}
	}
	return nil
}

// Pending lists the versions Migrate would apply, in order.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	files, err := s.migrations()
	if err != nil {
		return nil, err
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range files {
		if !slices.Contains(applied, m.version) {
			pending = append(pending, m.version)
		}
	}
	return pending, nil
}

func (s *Store) createMigrationsTable() string {
	ts := "timestamp"
	if s.pool.postgres() {
		ts = "timestamptz"
	}
	return "CREATE TABLE IF NOT EXISTS " + migrationsTable +
		" (version text PRIMARY KEY, applied_at " + ts + " NOT NULL)"
}

// apply runs one file unless it is recorded. The check is inside the
// transaction so that it holds on SQLite too, where the immediate
// transaction is the lock.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) (applied bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil || !applied {
			_ = tx.Rollback()
		}
	}()
	var n int
	q := "SELECT count(*) FROM " + migrationsTable + " WHERE version = " + s.placeholder(1)
	if err := tx.QueryRowContext(ctx, q, m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("check version: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	stmts, err := atlasmigrate.NewLocalFile(m.version+".sql", m.sql).Stmts()
	if err != nil {
		return false, fmt.Errorf("parse: %w", err)
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("exec %q: %w", firstLine(stmt), err)
		}
	}
	ins := "INSERT INTO " + migrationsTable + " (version, applied_at) VALUES (" +
		s.placeholder(1) + ", " + s.placeholder(2) + ")"
	if _, err := tx.ExecContext(ctx, ins, m.version, time.Now().UTC()); err != nil {
		return false, fmt.Errorf("record version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// appliedVersions reads the recorded versions; none if the table is absent.
func (s *Store) appliedVersions(ctx context.Context) ([]string, error) {
	exists := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + migrationsTable + "'"
	if s.pool.postgres() {
		exists = "SELECT count(*) FROM (SELECT to_regclass('" + migrationsTable + "') AS t) r WHERE t IS NOT NULL"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT version FROM "+migrationsTable)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		versions = append(versions, v)
	}
	return versions, rows.Err()
}

// migrations reads the embedded files of the dialect in name order.
func (s *Store) migrations() ([]migration, error) {
	fsys, err := migrations.FS(s.dialect)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("list migrations: none embedded")
	}
	slices.Sort(names)
	out := make([]migration, 0, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, migration{version: strings.TrimSuffix(path.Base(name), ".sql"), sql: b})
	}
	return out, nil
}

func (s *Store) placeholder(n int) string {
	if s.pool.postgres() {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

func firstLine(stmt string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(stmt), "\n")
	if len(line) > 80 {
		line = line[:80] + "…"
	}
	return line
}
