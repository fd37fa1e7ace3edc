package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	asynqueue "github.com/wagate/wagate/adapters/asynq"
	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/httpgin"
	"github.com/wagate/wagate/adapters/localbus"
	"github.com/wagate/wagate/adapters/localqueue"
	"github.com/wagate/wagate/adapters/ratelimit"
	"github.com/wagate/wagate/adapters/redisbus"
	"github.com/wagate/wagate/adapters/safehttp"
	"github.com/wagate/wagate/adapters/tracing"
	"github.com/wagate/wagate/adapters/uuidv7"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/adapters/whatsapp"
	"github.com/wagate/wagate/core/bulks"
	"github.com/wagate/wagate/core/contacts"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/core/exports"
	"github.com/wagate/wagate/core/governance"
	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/core/idempotency"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/core/nodecalls"
	"github.com/wagate/wagate/core/ownership"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/stats"
	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// system is every long-lived part of a running wagate, wired together.
type system struct {
	store   *entstore.Store
	redis   *redis.Client // nil on the embedded default
	limiter ports.RateLimiter
	bus     *localbus.Bus
	// shared carries events between nodes through Redis (nil without
	// Redis); realtime is what the event dispatcher publishes to: shared,
	// or bus alone.
	shared *redisbus.Bus
	// principals caches authenticated callers (nil: off); revocations
	// tells the other nodes what to drop from theirs (nil without Redis).
	principals  *tenancy.Principals
	revocations *redisbus.Revocations
	// calls carries the calls that need an instance's connection to the
	// node holding it (nil without Redis); router is their registry.
	calls    *redisbus.Calls
	router   *nodecalls.Router
	realtime ports.EventBus
	queue    ports.Queue
	runner   ports.Runner
	whatsapp *whatsapp.Manager
	// forwarded is whatsapp with its live-connection calls run on the
	// instance's holder (core/nodecalls).
	forwarded *nodecalls.WhatsApp
	// forwardedGroups and forwardedContacts are the group, contact and
	// profile calls, run on the instance's holder likewise.
	forwardedGroups   *nodecalls.Groups
	forwardedContacts *nodecalls.Contacts
	// sim is the simulated network of sandbox mode (nil when live);
	// simServer is set when it runs in this process, which then owns it.
	sim       wasim.Controller
	simServer *wasim.Server
	tenancy   *tenancy.Service
	keys      *keys.Service
	sessions  *sessions.Service
	messaging *messaging.Service
	groups    *groups.Service
	bulks     *bulks.Service
	// contacts answers the chat, contact and profile routes (SPEC §16).
	contacts *contacts.Service
	// ownership holds this node's instance leases: which WhatsApp
	// connections it runs, when several nodes share the database.
	ownership *ownership.Service
	// idempotency keeps the Idempotency-Keys of the send routes.
	idempotency *idempotency.Service
	// webhooks fans events out to webhook endpoints and delivers them.
	webhooks *webhooks.Service
	// stats answers the stats routes and batches the API-call counts.
	stats *stats.Service
	// templates keeps the message templates of SPEC §8.
	templates *templates.Service
	// governance erases people, enforces retention and closes accounts
	// (SPEC §18); jwtSecret keys its audit HMAC.
	governance *governance.Service
	jwtSecret  []byte
	// exports writes and serves the data exports (SPEC §18).
	exports *exports.Service
	// eventLog appends the modules' events and wakes their dispatcher;
	// eventFeed reads the log back for clients (SPEC §10).
	eventLog  *events.Log
	eventFeed *events.Feed
	// metrics is the registry GET /metrics serves; the adapters that
	// observe the cores register on it.
	metrics *prometheus.Registry
}

// openStore opens the database chosen by the configuration, moves
// WhatsApp's device tables into their own file on SQLite (an upgrade, or
// a restored snapshot) and applies migrations when asked to.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, migrate bool) (*entstore.Store, error) {
	st, err := entstore.Open(ctx, entstore.Options{
		URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Log: log, MaxConns: cfg.DatabaseMaxConns,
		TracerProvider: tracing.InTraceOnly(cfg.tracer),
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := st.MoveDeviceTables(ctx); err != nil {
		st.Close()
		return nil, err
	}
	pending, err := st.Pending(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("check migrations: %w", err)
	}
	if len(pending) == 0 {
		return st, nil
	}
	if !migrate {
		st.Close()
		return nil, fmt.Errorf("%d database migrations are pending: run `wagate migrate` (or set WAGATE_MIGRATE_ON_START=true)", len(pending))
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	log.Info("applied migrations", "versions", pending)
	return st, nil
}

// migrateOnStart decides whether serve applies pending migrations: by
// default only on SQLite, where nobody else runs them.
func migrateOnStart(cfg Config) bool {
	switch cfg.MigrateOnStart {
	case "true":
		return true
	case "false":
		return false
	default:
		return cfg.DatabaseURL == ""
	}
}

// build wires the adapters to the core. The store, queue and WhatsApp
// choices all happen here.
func build(ctx context.Context, cfg Config, log *slog.Logger) (_ *system, err error) {
	st, err := openStore(ctx, cfg, log, migrateOnStart(cfg))
	if err != nil {
		return nil, err
	}
	sys := &system{store: st, metrics: prometheus.NewRegistry()}
	// One cleanup for every step below: a step that fails leaves what the
	// earlier ones opened to close.
	defer func() {
		if err != nil {
			sys.close()
		}
	}()
	if err := sys.openRedis(ctx, cfg); err != nil {
		return nil, err
	}
	// Microseconds are what PostgreSQL keeps; rounding here makes a value
	// read back equal to the one first returned.
	clock := ports.ClockFunc(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	ids := uuidv7.New()
	if err := sys.buildAccounts(ctx, cfg, clock, ids, log); err != nil {
		return nil, err
	}
	network, err := sys.openNetwork(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := sys.openBus(ctx, cfg, log); err != nil {
		return nil, err
	}
	if err := sys.openQueue(cfg, log); err != nil {
		return nil, err
	}
	// The modules append their events to the log in their transactions;
	// the webhooks dispatcher follows it, writes the deliveries and
	// forwards every event to the realtime bus, counting the status
	// changes among them for /metrics on the way.
	evlog := events.New(events.Deps{
		IDs: ids, Clock: clock, Encode: httpgin.EncodeEventData, Queue: sys.queue, Log: log.With("component", "events"),
	})
	sys.eventLog = evlog
	realtime, err := sys.measureEvents(sys.realtime, log.With("component", "metrics"))
	if err != nil {
		return nil, err
	}
	if sys.webhooks, err = newWebhooks(cfg, st, sys.queue, evlog, realtime, clock, ids, sys.metrics, log); err != nil {
		return nil, err
	}
	sys.webhooks.Register(sys.runner)
	if sys.whatsapp, err = whatsapp.New(ctx, whatsapp.Options{
		DB: st.DeviceDB(), Dialect: st.Dialect(), HTTPClient: network, ProxyDial: safehttp.NewProxyDialer(proxyGuard(cfg)),
		OnEvent: sys.routeWhatsAppEvent,
		Log:     log.With("component", "whatsapp"), Clock: clock,
		QRFirstTimeout: cfg.QRTimeout, QRTimeout: cfg.QRNextTimeout,
	}); err != nil {
		return nil, fmt.Errorf("whatsapp: %w", err)
	}
	if err := sys.buildSessions(cfg, clock, ids, evlog, log); err != nil {
		return nil, err
	}
	sys.buildMessaging(cfg, clock, ids, evlog, log)
	sys.buildStoreOnly(clock, ids, log)
	if err := sys.buildExports(cfg, clock, ids, log); err != nil {
		return nil, err
	}
	sys.buildGovernance(cfg, clock, ids, log)
	sys.buildContacts(clock, evlog, log)
	// Every call is registered: the other nodes' may come in.
	if err := sys.router.Serve(); err != nil {
		return nil, fmt.Errorf("node calls: %w", err)
	}
	// The log's reading side: clients catching up (GET /events, the
	// stream's replay); the uuidv7 ids tell a purged cursor by its time.
	sys.eventFeed = events.NewFeed(events.FeedDeps{
		Stores: st.Stores(), Reader: st.EventReader(), Clock: clock, IDTimes: ids, Retention: cfg.EventRetention,
	})
	return sys, nil
}

// openRedis connects to Redis when it is configured, and chooses the rate
// limiter: shared by all nodes through Redis, else in memory.
func (s *system) openRedis(ctx context.Context, cfg Config) error {
	if cfg.RedisURL == "" {
		s.limiter = ratelimit.NewMemory()
		return nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("WAGATE_REDIS_URL: %w", err)
	}
	s.redis = redis.NewClient(opt)
	if err := tracing.InstrumentRedis(s.redis, cfg.tracer); err != nil {
		return fmt.Errorf("trace redis: %w", err)
	}
	if err := s.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connect to redis: %w", err)
	}
	if s.limiter, err = ratelimit.NewRedis(s.redis, cfg.RedisPrefix+":rl:"); err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	return nil
}

// openBus chooses the realtime bus: in-process, and shared between nodes
// through Redis when it is configured.
func (s *system) openBus(ctx context.Context, cfg Config, log *slog.Logger) error {
	s.bus = localbus.New(localbus.Options{Log: log.With("component", "events")})
	s.realtime = s.bus
	if s.redis == nil {
		return nil
	}
	// Several nodes: a WebSocket client on any of them sees the events of
	// instances whose connection another node holds.
	shared, err := redisbus.New(ctx, redisbus.Options{
		Redis: s.redis, Prefix: cfg.RedisPrefix, Node: ports.NodeID(cfg.NodeID),
		Local: s.bus, Log: log.With("component", "events"),
	})
	if err != nil {
		return fmt.Errorf("event bus: %w", err)
	}
	s.shared, s.realtime = shared, shared
	// Calls that need an instance's connection reach its holder.
	if s.calls, err = redisbus.NewCalls(ctx, redisbus.CallOptions{
		Redis: s.redis, Prefix: cfg.RedisPrefix, Node: ports.NodeID(cfg.NodeID), Log: log.With("component", "node-calls"),
	}); err != nil {
		return fmt.Errorf("node calls: %w", err)
	}
	return nil
}

// openQueue chooses the job queue, then measures and traces it.
func (s *system) openQueue(cfg Config, log *slog.Logger) error {
	if err := s.chooseQueue(cfg, log); err != nil {
		return err
	}
	if err := s.measureQueue(log.With("component", "metrics")); err != nil {
		return err
	}
	// Traced last, outermost: the job spans carry their context in the
	// jobs.
	s.queue, s.runner = tracing.Queue(s.queue, cfg.tracer, queueSystem(cfg)), tracing.Runner(s.runner, cfg.tracer, queueSystem(cfg))
	return nil
}

// chooseQueue chooses the job queue: asynq when Redis is configured, else
// the embedded queue in the database. Both give the same semantics, so
// nothing else depends on the choice.
func (s *system) chooseQueue(cfg Config, log *slog.Logger) error {
	qlog := log.With("component", "queue")
	if s.redis != nil {
		q, err := asynqueue.New(asynqueue.Options{Redis: s.redis, Prefix: cfg.RedisPrefix, Log: qlog})
		if err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		s.queue, s.runner = q, q.NewRunner()
		return nil
	}
	q, err := localqueue.New(s.store.DB(), s.store.Dialect(), localqueue.Options{Lease: cfg.QueueLease, Log: qlog})
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	s.queue, s.runner = q, q.NewRunner()
	return nil
}

// openNetwork chooses the WhatsApp network: nil, the real one, when live;
// in sandbox mode the simulator's HTTP client, which every whatsmeow
// connection then goes through.
func (s *system) openNetwork(cfg Config, log *slog.Logger) (*http.Client, error) {
	if cfg.WhatsApp != whatsAppSandbox {
		return nil, nil
	}
	// The simulator signs with its own root certificate; from here on this
	// process trusts it instead of WhatsApp's.
	wasim.InstallCert()
	if cfg.SandboxAddr != "" {
		s.sim = wasim.NewRemote(cfg.SandboxAddr)
		log.Info("sandbox mode: using a shared simulator", "addr", cfg.SandboxAddr)
		return s.sim.HTTPClient(), nil
	}
	srv := wasim.New(wasim.Options{Log: log.With("component", "wasim"), ReceiptDelay: sandboxReceiptDelay})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("sandbox simulator: %w", err)
	}
	s.sim, s.simServer = srv, srv
	log.Info("sandbox mode: simulated WhatsApp network in-process", "addr", srv.Addr())
	return srv.HTTPClient(), nil
}

// sandboxReceiptDelay is how long the sandbox's contacts take to receive a
// message (and twice that to read it), as SPEC §15 promises.
const sandboxReceiptDelay = time.Second

// close releases what build opened: the WhatsApp connections first (their
// last events still reach the database), then Redis and the database, and
// the in-process simulator last, so that no client sees its network vanish
// while still connected.
func (s *system) close() {
	if s.whatsapp != nil {
		s.whatsapp.Close()
	}
	if s.eventLog != nil {
		// No change comes after the WhatsApp clients closed: the last
		// wake-ups reach the queue before it closes.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.eventLog.Drain(ctx)
		cancel()
	}
	if s.calls != nil {
		s.calls.Close()
	}
	if s.shared != nil {
		s.shared.Close()
	}
	if s.revocations != nil {
		s.revocations.Close()
	}
	if s.bus != nil {
		s.bus.Close()
	}
	if s.redis != nil {
		s.redis.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.simServer != nil {
		s.simServer.Close()
	}
}

// jwtSecret returns the configured secret or, on a machine without one, a
// random secret generated once and kept in the data dir so that tokens
// survive restarts.
func jwtSecret(cfg Config, log *slog.Logger) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "jwt-secret")
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("%s holds less than 32 bytes: remove it or set WAGATE_JWT_SECRET", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read jwt secret: %w", err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write jwt secret: %w", err)
	}
	log.Warn("WAGATE_JWT_SECRET is not set: generated a secret and kept it in the data dir; set one when running several nodes", "path", path)
	return []byte(secret), nil
}
