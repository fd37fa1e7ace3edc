package entstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
)

// MainFile is the gateway's SQLite file in the data directory.
const MainFile = "wagate.db"

// DeviceFile is the SQLite file of WhatsApp's device stores (whatsmeow's
// tables: keys, sessions, contacts), beside wagate.db in the data
// directory. With both in one file, every Signal session whatsmeow saved
// while encrypting a send waited for SQLite's one writer behind the
// gateway's own transactions (claims, receipts, the queue): in the drain
// bench a send took 2 to 3 times as long as bare whatsmeow's. Two files
// have a writer each.
const DeviceFile = "whatsapp.db"

// devicePrefix starts the name of every whatsmeow table.
const devicePrefix = "whatsmeow_"

// MoveDeviceTables moves whatsmeow's tables out of wagate.db, where
// versions before DeviceFile kept them and where `wagate restore` puts a
// snapshot's, into DeviceFile; the server calls it on every start, before
// WhatsApp's stores open (on PostgreSQL it does nothing). The copy commits in DeviceFile first, then
// the tables are dropped from wagate.db: a crash between the two leaves
// both, and the next start, finding DeviceFile's tables, only drops the
// old ones. A DeviceFile that already has whatsmeow's tables wins.
func (s *Store) MoveDeviceTables(ctx context.Context) error {
	if s.pool.postgres() {
		return nil
	}
	old, err := deviceTables(ctx, s.db, "main")
	if err != nil || len(old) == 0 {
		return err
	}
	current, err := deviceTables(ctx, s.devices, "main")
	if err != nil {
		return err
	}
	if len(current) == 0 {
		conn, err := s.devices.Conn(ctx)
		if err != nil {
			return fmt.Errorf("move WhatsApp's tables: %w", err)
		}
		err = CopyDeviceTables(ctx, conn, s.path)
		conn.Close()
		if err != nil {
			return fmt.Errorf("move WhatsApp's tables to %s: %w", DeviceFile, err)
		}
		s.log.InfoContext(ctx, "moved WhatsApp's device tables", "to", DeviceFile, "tables", len(old))
	}
	return dropTables(ctx, s.db, old)
}

// deviceTables lists whatsmeow's tables in schema of db.
func deviceTables(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, schema string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM "+schema+".sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?",
		len(devicePrefix), devicePrefix)
	if err != nil {
		return nil, fmt.Errorf("list WhatsApp's tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// CopyDeviceTables copies whatsmeow's tables, their rows and indexes from
// the SQLite file at src into the database of conn, in one transaction
// that first drops the ones conn's database has; when src has none, it
// changes nothing. `wagate backup` uses it to put the device stores into
// a snapshot of wagate.db, which then holds everything, as snapshots
// always have (`wagate restore` brings the snapshot back as wagate.db,
// and the next start moves the tables out again).
func CopyDeviceTables(ctx context.Context, conn *sql.Conn, src string) (err error) {
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS src", SQLiteURI(src, "mode=ro")); err != nil {
		return fmt.Errorf("attach %s: %w", filepath.Base(src), err)
	}
	defer func() {
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE src"); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	tables, err := deviceTables(ctx, conn, "src")
	if err != nil || len(tables) == 0 {
		return err
	}
	stale, err := deviceTables(ctx, conn, "main")
	if err != nil {
		return err
	}
	return inTxDeferringKeys(ctx, conn, func(tx *sql.Tx) error { return copyTables(ctx, tx, stale, tables) })
}

// copyTables is CopyDeviceTables' transaction: it drops stale from main,
// then copies tables from src.
func copyTables(ctx context.Context, tx *sql.Tx, stale, tables []string) error {
	for _, t := range stale {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("DROP TABLE main.%q", t)); err != nil {
			return fmt.Errorf("drop %s: %w", t, err)
		}
	}
	for _, t := range tables {
		var create string
		if err := tx.QueryRowContext(ctx, "SELECT sql FROM src.sqlite_master WHERE type = 'table' AND name = ?", t).Scan(&create); err != nil {
			return fmt.Errorf("read %s: %w", t, err)
		}
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("create %s: %w", t, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO main.%q SELECT * FROM src.%q", t, t)); err != nil {
			return fmt.Errorf("copy %s: %w", t, err)
		}
	}
	indexes, err := tx.QueryContext(ctx, "SELECT sql FROM src.sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND substr(tbl_name, 1, ?) = ?",
		len(devicePrefix), devicePrefix)
	if err != nil {
		return err
	}
	var creates []string
	for indexes.Next() {
		var c string
		if err := indexes.Scan(&c); err != nil {
			indexes.Close()
			return err
		}
		creates = append(creates, c)
	}
	indexes.Close()
	for _, c := range creates {
		if _, err := tx.ExecContext(ctx, c); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	return nil
}

// dropTables drops tables from db in one transaction.
func dropTables(ctx context.Context, db *sql.DB, tables []string) error {
	return inTxDeferringKeys(ctx, db, func(tx *sql.Tx) error {
		for _, t := range tables {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("DROP TABLE %q", t)); err != nil {
				return fmt.Errorf("drop %s: %w", t, err)
			}
		}
		return nil
	})
}

// inTxDeferringKeys runs fn in a transaction of b whose foreign keys are
// checked at the commit: rows and tables go in and out in any order.
func inTxDeferringKeys(ctx context.Context, b interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(*sql.Tx) error) error {
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
