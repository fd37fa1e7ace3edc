package app

// wagate backup and wagate restore (SPEC §18): a consistent snapshot of an
// embedded (SQLite) deployment while it serves, and bringing one back
// while it is stopped. The snapshot is one SQLite file that holds
// everything wagate keeps, WhatsApp device credentials included (copied in
// from their own file, entstore.DeviceFile), so restored instances
// reconnect without a QR. PostgreSQL deployments
// use pg_dump or point-in-time recovery (README).

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the SQLite driver, as entstore uses it

	"github.com/wagate/wagate/adapters/entstore"
)

func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("backup", stdout)
	out := fs.String("out", "", "file to write the snapshot to (must not exist)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out FILE is required")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("backup: WAGATE_DATABASE_URL is set: back PostgreSQL up with pg_dump or point-in-time recovery (see the README)")
	}
	src := filepath.Join(cfg.DataDir, entstore.MainFile)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: no database at %s: %w", src, err)
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file", *out)
	}
	db, err := openSQLiteFile(src, false)
	if err != nil {
		return err
	}
	defer db.Close()
	// VACUUM INTO reads one consistent snapshot (a read transaction under
	// WAL) while the server goes on writing, and writes a compact copy.
	if _, err := db.ExecContext(ctx, "VACUUM INTO '"+strings.ReplaceAll(*out, "'", "''")+"'"); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(*out, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := addDevices(ctx, *out, filepath.Join(cfg.DataDir, entstore.DeviceFile)); err != nil {
		os.Remove(*out)
		return fmt.Errorf("backup: WhatsApp's device stores: %w", err)
	}
	info, err := os.Stat(*out)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", *out, info.Size())
	return nil
}

func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("restore", stdout)
	in := fs.String("in", "", "snapshot written by wagate backup")
	force := fs.Bool("force", false, "replace an existing database")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *in == "" {
		return errors.New("restore: --in FILE is required")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("restore: WAGATE_DATABASE_URL is set: restore PostgreSQL with pg_restore (see the README)")
	}
	if err := checkSnapshot(ctx, *in); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	dst := filepath.Join(cfg.DataDir, entstore.MainFile)
	if _, err := os.Stat(dst); err == nil && !*force {
		return fmt.Errorf("restore: %s exists; stop the server and pass --force to replace it", dst)
	}
	// Copy next to the target, then rename over it: a failure half way
	// leaves the old database as it was.
	tmp := dst + ".restore"
	if err := copyFile(*in, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The device stores' file goes too: the next start moves the
	// snapshot's device tables out of wagate.db into a new one
	// (entstore.DeviceFile), where an old file would win over them.
	devices := filepath.Join(cfg.DataDir, entstore.DeviceFile)
	for _, f := range []string{dst + "-wal", dst + "-shm", devices, devices + "-wal", devices + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", *in, dst)
	return nil
}

// addDevices copies the device stores of the file at devices, when there
// is one, into the snapshot at snap. It reads them in a transaction of
// its own, a moment after the snapshot of wagate.db: an instance linked
// in that moment may need its QR again after a restore.
func addDevices(ctx context.Context, snap, devices string) error {
	if _, err := os.Stat(devices); errors.Is(err, os.ErrNotExist) {
		return nil // an older server, whose snapshot holds them already
	}
	db, err := openSQLiteFile(snap, false)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return entstore.CopyDeviceTables(ctx, conn, devices)
}

// checkSnapshot refuses a file that is not a sound SQLite database.
func checkSnapshot(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, []byte("SQLite format 3\x00")) {
		return fmt.Errorf("restore: %s is not a SQLite database", path)
	}
	db, err := openSQLiteFile(path, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		return fmt.Errorf("restore: %s fails the integrity check: %v %s", path, err, ok)
	}
	return nil
}

func openSQLiteFile(path string, readOnly bool) (*sql.DB, error) {
	dsn := entstore.SQLiteURI(path, "_pragma=busy_timeout(10000)")
	if readOnly {
		dsn += "&mode=ro"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(to)
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
