// Package whatsmeow is the WhatsApp adapter: it implements ports.WhatsApp
// with go.mau.fi/whatsmeow, one client per instance, the device
// credentials of all instances in one whatsmeow sqlstore container on
// wagate's own database (tables prefixed whatsmeow_).
//
// whatsmeow's events are mapped to ports.WAEvents (statuses, QR codes,
// messages, receipts) on one goroutine per instance, so that OnEvent sees
// an instance's events in order and whatsmeow's handlers never wait.
package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/util/dbutil"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/store/sqlstore/upgrades"

	"github.com/wagate/wagate/ports"
)

// Options configure New. Zero durations take the defaults in brackets.
type Options struct {
	DB *sql.DB
	// Dialect is the database's: "sqlite3", "sqlite" or "postgres" (what
	// entstore's Dialect returns). SQLite needs foreign keys on.
	Dialect string
	// HTTPClient, when set, carries every connection of every client
	// (websocket and media) and proxies are ignored: the simulator's client
	// in sandbox mode and tests. Nil: the real network.
	HTTPClient *http.Client
	// ProxyDial opens every connection to an instance's proxy: the
	// composition root passes the SSRF-guarded dialer, so that a proxy name
	// pointing at an internal address is refused at connect. Nil: a plain
	// net.Dialer.
	ProxyDial func(ctx context.Context, network, address string) (net.Conn, error)
	// OnEvent receives the events of all instances from one goroutine per
	// instance: in order for an instance, concurrently across instances.
	// It should be quick: the instance's next events wait for it. An error
	// for a message or a receipt leaves it unacked, so WhatsApp sends it
	// again (at the next login); for other events it is ignored.
	OnEvent func(ports.WAEvent) error
	Log     *slog.Logger
	// QRFirstTimeout is how long the first QR code of a connect lives
	// [60s], QRTimeout the next ones [20s]; MaxQRCodes how many are shown
	// before giving up with qr_timeout [3].
	QRFirstTimeout time.Duration
	QRTimeout      time.Duration
	MaxQRCodes     int
	// PairCodeTimeout is how long a pair code may take to be entered once
	// asked for [3m]; then the connect gives up with qr_timeout.
	PairCodeTimeout time.Duration
	// Watchdog is how long keepalives may keep failing on a connection that
	// looks alive before it is closed and opened again [90s].
	Watchdog time.Duration
	// ReconnectMax caps the delay between automatic reconnect attempts
	// [30s]. whatsmeow waits 0, 2, 4, … seconds; the cap stops the growth.
	ReconnectMax time.Duration
	Clock        ports.Clock
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ProxyDial == nil {
		o.ProxyDial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	if o.OnEvent == nil {
		o.OnEvent = func(ports.WAEvent) error { return nil }
	}
	if o.QRFirstTimeout <= 0 {
		o.QRFirstTimeout = 60 * time.Second
	}
	if o.QRTimeout <= 0 {
		o.QRTimeout = 20 * time.Second
	}
	if o.MaxQRCodes <= 0 {
		o.MaxQRCodes = 3
	}
	if o.PairCodeTimeout <= 0 {
		o.PairCodeTimeout = 3 * time.Minute
	}
	if o.Watchdog <= 0 {
		o.Watchdog = 90 * time.Second
	}
	if o.ReconnectMax <= 0 {
		o.ReconnectMax = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = ports.ClockFunc(time.Now)
	}
}

// Manager holds the clients of all instances of this process.
type Manager struct {
	opt       Options
	log       *slog.Logger
	container *sqlstore.Container

	// ctx outlives requests: whatsmeow runs each connection, its
	// reconnects and its event handlers under it. Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// deviceDB is the device store's database handle: the session cache
	// writes through it, inside whatsmeow's transaction when there is one.
	deviceDB *dbutil.Database
	// cacheGen is bumped when rows are deleted behind the devices' caches
	// (rowcache.go), which then start over.
	cacheGen atomic.Uint64

	mu       sync.Mutex
	sessions map[ports.InstanceID]*session
	closed   bool
}

var _ ports.WhatsApp = (*Manager)(nil)

// New opens the device store on opt.DB, creating or upgrading whatsmeow's
// tables.
func New(ctx context.Context, opt Options) (*Manager, error) {
	if opt.DB == nil {
		return nil, errors.New("whatsmeow: no database")
	}
	opt.defaults()
	setupSignalLogging(opt.Log)
	container, deviceDB, err := newContainer(ctx, opt.DB, opt.Dialect, newLogger(opt.Log.With("component", "whatsmeow_store")))
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	return &Manager{
		opt:       opt,
		log:       opt.Log,
		container: container,
		deviceDB:  deviceDB,
		ctx:       bg,
		cancel:    cancel,
		sessions:  make(map[ports.InstanceID]*session),
	}, nil
}

func newContainer(ctx context.Context, db *sql.DB, dialect string, log slogLogger) (*sqlstore.Container, *dbutil.Database, error) {
	wrapped, err := dbutil.NewWithDB(db, dialect)
	if err != nil {
		return nil, nil, fmt.Errorf("whatsmeow store: unsupported dialect %q", dialect)
	}
	wrapped.UpgradeTable = upgrades.Table // as sqlstore.NewWithDB sets them
	wrapped.VersionTable = "whatsmeow_version"
	c := sqlstore.NewWithWrappedDB(wrapped, log)
	unlock, err := lockUpgrade(ctx, db, dialect)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	if err := c.Upgrade(ctx); err != nil {
		return nil, nil, fmt.Errorf("upgrade whatsmeow tables: %w", err)
	}
	return c, wrapped, nil
}

// upgradeLockKey names the PostgreSQL advisory lock held around
// whatsmeow's table upgrade (an arbitrary constant, "wa" in ASCII).
const upgradeLockKey = 0x7761

// lockUpgrade serializes whatsmeow's table upgrade between processes on
// PostgreSQL: nodes that start together on an empty database would
// otherwise create the same tables at once and fail on a duplicate key.
// The lock is held by one connection taken from the pool while the upgrade
// runs on others. SQLite has one process: nothing to do.
func lockUpgrade(ctx context.Context, db *sql.DB, dialect string) (func(), error) {
	if dialect != "postgres" {
		return func() {}, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock whatsmeow upgrade: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", upgradeLockKey); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock whatsmeow upgrade: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", upgradeLockKey)
		conn.Close()
	}, nil
}

// session returns the instance's session, creating it and starting its
// event loop on first use. It fails once the manager is closed.
func (m *Manager) session(id ports.InstanceID) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ports.Errorf(ports.EUnavailable, "the WhatsApp adapter is shutting down")
	}
	s, ok := m.sessions[id]
	if !ok {
		s = newSession(m, id)
		m.sessions[id] = s
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			s.run(m.ctx)
		}()
	}
	return s, nil
}

// existing returns the instance's session or nil.
func (m *Manager) existing(id ports.InstanceID) *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[id]
}

// Connected reports whether the instance is logged in to WhatsApp now.
func (m *Manager) Connected(id ports.InstanceID) bool {
	s := m.existing(id)
	if s == nil {
		return false
	}
	return s.connectedClient() != nil
}

// Close disconnects every client without status events (the instances
// keep their last status, so that the next start reconnects those that
// were connected) and waits for the event loops to finish.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	sessions := make([]*session, 0, len(m.sessions))
	for _, s := range m.sessions {
		sessions = append(sessions, s)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.shutdown()
		}()
	}
	wg.Wait()
	m.cancel()
	m.wg.Wait()
	return nil
}

// goTracked runs fn on a goroutine that Close waits for.
func (m *Manager) goTracked(fn func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		fn()
	}()
}

func (m *Manager) now() time.Time { return m.opt.Clock.Now() }

// newClient makes a client for dev with the manager's network settings and
// the instance's proxy.
func (m *Manager) newClient(id ports.InstanceID, dev *store.Device, proxyURL string) (*wa.Client, error) {
	cli := wa.NewClient(dev, newLogger(m.log.With("component", "whatsmeow", "instance", string(id))))
	cli.EnableAutoReconnect = true
	// A first connect that fails on the network is retried in the
	// background like a dropped connection, which start-up restores need.
	cli.InitialAutoReconnect = true
	cli.AutoReconnectHook = m.capBackoff(cli)
	// Delivery receipts are only "active" (shown as delivered to the
	// sender) for an available client; this needs no push name.
	cli.SetForceActiveDeliveryReceipts(true)
	// Acks and receipts are sent from whatsmeow's handler loop rather than
	// from goroutines of their own. That narrows, but cannot close, a data
	// race inside whatsmeow (FrameSocket.SendFrame reads the connection
	// that Close clears) when we disconnect while a receipt is written;
	// tests wait for the receipt (wasim.WaitReceipt) before closing.
	cli.SynchronousAck = true
	// WhatsApp sends a message again until it is acked. One decrypted
	// before a crash but not yet handled cannot be decrypted twice (the
	// Signal ratchet moved on): the buffer keeps its plaintext until the
	// handlers returned, so the resend is handled instead of dropped.
	cli.EnableDecryptedEventBuffer = true
	if proxyURL != "" && m.opt.HTTPClient == nil {
		h, err := proxyClient(proxyURL, m.opt.ProxyDial)
		if err != nil {
			return nil, ports.Errorf(ports.EInvalid, "the proxy URL is invalid: %v", err)
		}
		cli.SetPreLoginHTTPClient(h)
		cli.SetWebsocketHTTPClient(h)
		cli.SetMediaHTTPClient(h)
	}
	if h := m.opt.HTTPClient; h != nil {
		// After any proxy setting: the setters replace the transports.
		cli.SetPreLoginHTTPClient(h)
		cli.SetWebsocketHTTPClient(h)
		cli.SetMediaHTTPClient(h)
	}
	return cli, nil
}

// capBackoff keeps whatsmeow's linear reconnect delay (2 s per failed
// attempt) under ReconnectMax: whatsmeow calls the hook on its reconnect
// goroutine, before it computes the next delay from AutoReconnectErrors.
func (m *Manager) capBackoff(cli *wa.Client) func(error) bool {
	maxErrors := int(m.opt.ReconnectMax / (2 * time.Second))
	return func(error) bool {
		if cli.AutoReconnectErrors > maxErrors {
			cli.AutoReconnectErrors = maxErrors
		}
		return m.ctx.Err() == nil
	}
}
