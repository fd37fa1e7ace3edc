// Package entstore is the database adapter: it implements the store ports of
// package ports with ent, on SQLite (modernc.org/sqlite, the embedded
// default) or PostgreSQL (lib/pq), and applies the versioned migrations of
// ent/migrate/migrations. Ent entities never leave this package.
package entstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq" // the "postgres" database/sql driver
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, no cgo

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ports"
)

// Options configure Open.
type Options struct {
	// URL is a postgres:// or postgresql:// URL; empty selects SQLite.
	URL string
	// DataDir holds the SQLite files wagate.db and, for WhatsApp's device
	// stores, whatsapp.db (DeviceFile); it is created (0700) if missing.
	DataDir string
	// Log receives migration progress; nil discards it.
	Log *slog.Logger
	// TracerProvider, when set, receives a span per query (otelsql);
	// nil: the driver is not wrapped.
	TracerProvider trace.TracerProvider
	// MaxConns bounds the node's PostgreSQL connections, the device
	// stores' pool included (postgresPools); zero: DefaultMaxConns.
	MaxConns int
}

// DefaultMaxConns is the PostgreSQL pool size when Options.MaxConns is
// zero: measured with 32 clients on 2 cores, 16 served the API as well as
// 32 or 64 (fewer server processes compete for the CPU), and leaves room
// under PostgreSQL's default of 100 connections for several nodes. The
// webhook backlog (make bench, 10,000 deliveries, 32 delivery workers)
// measured 743, 780 and 860 deliveries/s with 8, 16 and 32 connections,
// within the run-to-run noise of a loaded machine: the pool is not what
// limits delivery, so 16 stays.
const DefaultMaxConns = 16

// Store is the database. Its methods and the stores it hands out are safe
// for concurrent use.
type Store struct {
	db      *sql.DB
	client  *ent.Client
	dialect string
	log     *slog.Logger
	pool    *conn        // the stores' queries outside transactions
	devices *sql.DB      // WhatsApp's device stores (DeviceDB)
	path    string       // of wagate.db, on SQLite
	stores  ports.Stores // on pool
}

// conn is where a store's queries go: the connection pool, or one
// transaction. The stores InTx hands out are bound to the transaction's.
type conn struct {
	client  *ent.Client
	dialect string
	tx      bool // client is a transaction's
	// events are the transaction's appended events, written at its commit
	// (flushEvents); nil outside a transaction.
	events *[]ports.Event
	// inserts batches lone message inserts: the pool's on SQLite, else nil.
	inserts *inserter
}

var (
	_ ports.TxRunner = (*Store)(nil)
	_ ports.Pinger   = (*Store)(nil)
)

// Open connects to the database chosen by opts and checks that it answers.
// It does not migrate: call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	db, dia, err := openDB(opts)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", dia, err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		db:      db,
		client:  ent.NewClient(ent.Driver(entsql.OpenDB(dia, db))),
		dialect: dia,
		log:     log,
	}
	s.pool = &conn{client: s.client, dialect: dia}
	if dia == dialect.SQLite {
		s.pool.inserts = &inserter{pool: &conn{client: s.client, dialect: dia}}
	}
	s.stores = newStores(s.pool)
	s.devices = db
	if dia == dialect.SQLite {
		s.path = filepath.Join(opts.DataDir, MainFile)
		s.devices = openSQLiteFile(filepath.Join(opts.DataDir, DeviceFile), opts.TracerProvider)
	}
	if dia == dialect.Postgres {
		if s.devices, err = openDevicePool(opts); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// postgresPools splits a node's PostgreSQL connections (MaxConns, zero:
// DefaultMaxConns) between the gateway's pool and the WhatsApp device
// stores' (DeviceDB): a quarter, at least 2, for the devices, so that
// the node's total stays what the operator set.
func postgresPools(maxConns int) (main, devices int) {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	devices = max(2, maxConns/4)
	return max(2, maxConns-devices), devices
}

// openDevicePool opens the pool of the WhatsApp device stores on
// PostgreSQL. A send encrypts through the store (sessions, identities)
// several times before it goes out; sharing the gateway's pool, those
// queries queued behind the API's and the dispatcher's under load (a
// quarter of a send's time in the drain bench went to waiting for a
// connection). sql.Open connects only on first use.
func openDevicePool(opts Options) (*sql.DB, error) {
	db, err := openPostgresDB(opts.URL, opts.TracerProvider)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	_, n := postgresPools(opts.MaxConns)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// newStores returns the stores working on c.
func newStores(c *conn) ports.Stores {
	return ports.Stores{
		Subscriptions: &subscriptionStore{c},
		Users:         &userStore{c},
		Tokens:        &tokenStore{c},
		Instances:     &instanceStore{c},
		APIKeys:       &apiKeyStore{c},
		Audit:         &auditStore{c},
		Access:        newAccessStore(c),
		Messages:      &messageStore{c},
		Media:         &mediaStore{c},
		Webhooks:      &webhookStore{c},
		Deliveries:    &deliveryStore{c},
		Stats:         &statsStore{c},
		Templates:     &templateStore{c},
		Bulks:         &bulkStore{c},
		Idempotency:   &idempotencyStore{c},
		Events:        &eventStore{c},
		Members:       &memberStore{c},
		Invitations:   &invitationStore{c},
	}
}

func openDB(opts Options) (*sql.DB, string, error) {
	if opts.URL == "" {
		return openSQLite(opts.DataDir, opts.TracerProvider)
	}
	u, err := url.Parse(opts.URL)
	if err != nil {
		// The URL may hold a password: do not echo it.
		return nil, "", errors.New("open database: the database URL does not parse")
	}
	switch strings.ToLower(u.Scheme) {
	case "postgres", "postgresql":
		main, _ := postgresPools(opts.MaxConns)
		return openPostgres(opts.URL, opts.TracerProvider, main)
	default:
		return nil, "", fmt.Errorf("open database: unsupported URL scheme %q (want postgres:// or empty for SQLite)", u.Scheme)
	}
}

// sqlitePragmas make every connection enforce foreign keys, wait for the
// write lock instead of failing, and use WAL so that readers do not block
// the writer. _txlock=immediate takes the write lock at BEGIN, which
// serializes write transactions (the instance-limit check relies on it) and
// avoids lock upgrades that would fail with SQLITE_BUSY. _time_format=sqlite
// stores times as text that sorts in time order.
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"

// sqliteURIEscaper escapes what a SQLite URI filename reads as syntax: a
// data directory named "x#1" or "a?b" must not cut the path short and drop
// the parameters (t.TempDir names subtests "name#01").
var sqliteURIEscaper = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

// SQLiteURI is the "file:" URI of the database at path with the driver
// parameters params (without the "?").
func SQLiteURI(path, params string) string {
	return "file:" + sqliteURIEscaper.Replace(path) + "?" + params
}

func openSQLite(dir string, tp trace.TracerProvider) (*sql.DB, string, error) {
	if dir == "" {
		return nil, "", errors.New("open database: no data directory for SQLite")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("create data directory: %w", err)
	}
	return openSQLiteFile(filepath.Join(dir, MainFile), tp), dialect.SQLite, nil
}

// openSQLiteFile opens the pool of one SQLite file, whose writers queue
// in the process (sqlitegate.go).
func openSQLiteFile(path string, tp trace.TracerProvider) *sql.DB {
	db := openConnector(newGatedConnector(SQLiteURI(path, sqlitePragmas)), "sqlite", tp)
	// One writer at a time anyway; a few connections let reads proceed
	// alongside it under WAL.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return db
}

func openPostgres(dsn string, tp trace.TracerProvider, maxConns int) (*sql.DB, string, error) {
	db, err := openPostgresDB(dsn, tp)
	if err != nil {
		return nil, "", fmt.Errorf("open postgres: %w", err)
	}
	// As many idle connections as open ones: with fewer, every burst over
	// the idle count closes connections and the next burst opens them again
	// (a new server process each, and statements prepared again).
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, dialect.Postgres, nil
}

// openPostgresDB opens a pool of lib/pq connections that keep the
// statements they run (pgconn.go).
func openPostgresDB(dsn string, tp trace.TracerProvider) (*sql.DB, error) {
	c, err := newKeepingConnector(dsn)
	if err != nil {
		return nil, err
	}
	return openConnector(c, "postgresql", tp), nil
}

// DB returns the underlying connection pool.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns ent's dialect name: "sqlite3" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// DeviceDB returns the pool for WhatsApp's device stores: on PostgreSQL
// a pool of its own (a quarter of MaxConns: postgresPools), so that
// encrypting a send never waits behind the gateway's own queries; on
// SQLite the file of its own, DeviceFile (devicefile.go).
func (s *Store) DeviceDB() *sql.DB { return s.devices }

// Close closes the prepared statements and the connection pools.
func (s *Store) Close() error {
	err := s.client.Close()
	if s.devices != s.db {
		err = errors.Join(err, s.devices.Close())
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.dialect, err)
	}
	return nil
}

// Stores returns the stores outside transactions: each call stands alone.
func (s *Store) Stores() ports.Stores { return s.stores }

// InTx runs fn in a transaction: fn's error (or panic) rolls back, nil
// commits. The stores handed to fn work in the transaction; everything
// else, s.Stores() included, works outside it.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, st ports.Stores) error) error {
	return s.pool.inTx(ctx, func(tx *conn) error { return fn(ctx, newStores(tx)) })
}

// inTx runs fn on a conn bound to a transaction: c itself when c is one
// (a store's update closure inside InTx joins it), else a new one that
// fn's error (or panic) rolls back and nil commits.
func (c *conn) inTx(ctx context.Context, fn func(tx *conn) error) error {
	if c.tx {
		return fn(c)
	}
	tx, err := c.client.Tx(ctx)
	if err != nil {
		return dbError("begin transaction", "transaction", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	tc := &conn{client: tx.Client(), dialect: c.dialect, tx: true, events: new([]ports.Event)}
	err = fn(tc)
	if err == nil {
		err = tc.flushEvents(ctx)
	}
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return dbError("commit", "transaction", err)
	}
	return nil
}

// postgres reports whether row locks (SELECT … FOR UPDATE) are available.
// SQLite has none and needs none: its write transactions are serialized.
func (c *conn) postgres() bool { return c.dialect == dialect.Postgres }
