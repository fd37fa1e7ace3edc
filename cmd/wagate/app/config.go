package app

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/adapters/tracing"
	"github.com/wagate/wagate/ports"
)

// setting is one WAGATE_* environment variable: its default, what it does,
// and whether its value must never be printed.
type setting struct {
	name, def, help string
	secret          bool
}

// settings is every variable wagate reads, in the order --help lists them.
var settings = []setting{
	{"WAGATE_ADDR", ":8080", "address the HTTP server listens on", false},
	{"WAGATE_DATA_DIR", "./data", "directory for the SQLite database and the generated JWT secret", false},
	{"WAGATE_DATABASE_URL", "", "PostgreSQL URL (postgres://…); empty: SQLite in the data dir", true},
	{"WAGATE_DATABASE_MAX_CONNS", "16", "PostgreSQL connections per node (the pool); mind max_connections across nodes", false},
	{"WAGATE_REDIS_URL", "", "Redis URL (redis://…); empty: in-process rate limits and the queue in the database", true},
	{"WAGATE_REDIS_PREFIX", "wagate", "names this deployment's queues and keys in Redis; nodes of one deployment share it, separate deployments on one Redis must not", false},
	{"WAGATE_MIGRATE_ON_START", "auto", "apply pending migrations when serving: auto (only on SQLite), true, false", false},
	{"WAGATE_JWT_SECRET", "", "HS256 signing secret, at least 32 bytes; empty: generated once and kept in the data dir", true},
	{"WAGATE_JWT_PREVIOUS_SECRETS", "", "comma-separated earlier secrets still accepted (key rotation)", true},
	{"WAGATE_ACCESS_TOKEN_TTL", "15m", "lifetime of access tokens", false},
	{"WAGATE_REFRESH_TOKEN_TTL", "720h", "lifetime of refresh tokens", false},
	{"WAGATE_PPROF_ADDR", "", "address of a net/http/pprof listener, without authentication (keep it on loopback); empty: none", false},
	{"WAGATE_RELEASE_AFTER", "10s", "after this long, hand the kernel back the executable's pages only the start touched (Linux; about 40 MiB of RSS); 0: keep them", false},
	{"WAGATE_AUTH_CACHE_TTL", "auto", "how long a node trusts an API key or access token it checked without reading it again (0 to 1m; 0: every request reads); revocations reach every node's cache at once through Redis, this bounds what a lost one costs; auto: 2s on SQLite or with Redis, 0 on PostgreSQL without Redis (other nodes could not be told)", false},
	{"WAGATE_TIERS", "basic=5:600,pro=20:3000,max=40:6000", "tier=instances:requestsPerMinute for each tier", false},
	{"WAGATE_AUTH_RATE_PER_MIN", "60", "requests per minute per client IP on /api/v1/auth/*", false},
	{"WAGATE_LOGIN_FAILURES", "10/15m", "failed logins per account before it is locked for the window", false},
	{"WAGATE_MAX_BODY_BYTES", "1048576", "largest accepted request body, in bytes", false},
	{"WAGATE_MAX_MEDIA_BYTES", "10485760", "largest file of a media message, in bytes (its routes' body limit fits it)", false},
	{"WAGATE_CORS_ORIGINS", "", "comma-separated origins allowed by CORS; empty: none", false},
	{"WAGATE_TRUSTED_PROXIES", "", "comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed", false},
	{"WAGATE_TLS_CERT_FILE", "", "serve HTTPS with this certificate (and turn HSTS on)", false},
	{"WAGATE_TLS_KEY_FILE", "", "private key of WAGATE_TLS_CERT_FILE", false},
	{"WAGATE_SHUTDOWN_TIMEOUT", "15s", "how long a graceful shutdown may take", false},
	{"WAGATE_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"WAGATE_METRICS_TOKEN", "", "GET /metrics requires 'Authorization: Bearer <this token>'; empty: /metrics is open to anyone who reaches the port", true},
	{"WAGATE_NODE_ID", "", "this node's name in logs and instance leases, unique per node; empty: the host name", false},
	{"WAGATE_LEASE_TTL", "15s", "how long a node's hold on an instance lasts without renewal (renewed every third of it); a dead node's instances move after about this long", false},
	{"WAGATE_BOOTSTRAP_ADMIN_EMAIL", "", "create this platform admin at start if no user has the email", false},
	{"WAGATE_BOOTSTRAP_ADMIN_PASSWORD", "", "password of the bootstrap admin", true},
	{"WAGATE_WHATSAPP", "live", "live: the real WhatsApp network; sandbox: a simulated one, with the /api/v1/sandbox routes", false},
	{"WAGATE_SANDBOX_ADDR", "", "sandbox: host:port of a shared `wagate sim`; empty: the simulator runs in-process", false},
	{"WAGATE_QR_TIMEOUT", "60s", "how long the first QR code of a connect lives", false},
	{"WAGATE_QR_NEXT_TIMEOUT", "20s", "how long the second and third QR codes live (then the connect gives up)", false},
	{"WAGATE_CONTACTS_RATE", "30/1m", "contact checks per instance: count/period", false},
	{"WAGATE_PAIR_CODE_RATE", "3/10m", "pair codes per instance: count/period (each sends a linking prompt to a phone)", false},
	{"WAGATE_PAIR_CODE_SUBSCRIPTION_RATE", "10/1h", "pair codes per subscription, all its instances together: count/period", false},
	{"WAGATE_SEND_DELAY", "1s-3s", "pause between two sends of an instance: min-max (a random value in between), or one duration; 0 turns it off", false},
	{"WAGATE_SEND_MAX_AGE", "1h", "how long a message waits for a disconnected instance before it fails with instance_not_connected", false},
	{"WAGATE_SEND_TIMEOUT", "20s", "bounds one send to WhatsApp; a message a dead process left sending is sent again (same WhatsApp id) 1.5 times this after its claim", false},
	{"WAGATE_RETENTION", "messages=0,media=0,deliveries=0,audit=0", "platform default retention in days of subscriptions without their own (SPEC §18): messages, media, deliveries, audit; 0 keeps forever", false},
	{"WAGATE_RETENTION_PURGE_EVERY", "1h", "how often the retention purge runs (one node at a time, in batches)", false},
	{"WAGATE_EXPORT_DIR", "", "where data exports (SPEC §18) are written and served from; every node must see the same directory (a shared volume); empty: <WAGATE_DATA_DIR>/exports", false},
	{"WAGATE_EVENT_RETENTION", "168h", "how long the event log keeps an event; older ones are purged in batches", false},
	{"WAGATE_RELAY_AFTER", "30s", "how long a queued message or a due webhook delivery may sit untouched before the relay enqueues its job again (lost by the queue, or by a process that died before enqueuing)", false},
	{"WAGATE_QUEUE_LEASE", "30s", "embedded queue (no WAGATE_REDIS_URL): how long a running job's claim lasts unrenewed (renewed every third of it); a crashed process's jobs run again after about this long", false},
	{"WAGATE_WEBHOOK_SCHEDULE", "0s,5s,5m,30m,2h,5h,10h,10h", "webhook retry schedule: the delay before each attempt, comma-separated (±10% jitter); then the delivery is dead", false},
	{"WAGATE_WEBHOOK_ALLOW_PRIVATE", "false", "true: webhooks may target private and loopback addresses on any port over plain http, and instance proxies may be private (local development and tests only)", false},
	{"WAGATE_WEBHOOK_ALLOW_HTTP", "false", "true: webhooks may use plain http to public addresses", false},
	{"WAGATE_WEBHOOK_CONCURRENCY", "32", "webhook deliveries one node makes at once (1 to 1000); one endpoint's go one at a time", false},
	{"WAGATE_STREAM_RECHECK", "2s", "how often an open event stream checks its access token again (one query); a revoked or expired one closes it with 4001", false},
	{"WAGATE_STREAMS_PER_USER", "20", "open event streams per user on each node; more are refused with 429 too_many_streams", false},

	// The standard OpenTelemetry variables wagate's tracing reads (SPEC
	// §11). Tracing is off unless an exporter is configured.
	{"OTEL_SDK_DISABLED", "false", "true: no tracing, whatever else is set", false},
	{"OTEL_TRACES_EXPORTER", "", "otlp or none; empty: otlp when an OTLP endpoint is set, else none (tracing off)", false},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector base URL (http(s)://host:4318); spans go to its /v1/traces", false},
	{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "full OTLP/HTTP URL for spans; wins over OTEL_EXPORTER_OTLP_ENDPOINT", false},
	{"OTEL_EXPORTER_OTLP_HEADERS", "", "key=value,… headers sent with each export (collector credentials)", true},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "only http/protobuf is supported", false},
	{"OTEL_SERVICE_NAME", "wagate", "service.name of the spans", false},
	{"OTEL_RESOURCE_ATTRIBUTES", "", "key=value,… more resource attributes (service.instance.id defaults to WAGATE_NODE_ID)", false},
	{"OTEL_TRACES_SAMPLER", "parentbased_always_on", "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio", false},
	{"OTEL_TRACES_SAMPLER_ARG", "", "the ratio of the traceidratio samplers, 0 to 1 (default 1)", false},
}

// The WhatsApp networks WAGATE_WHATSAPP chooses from.
const (
	whatsAppLive    = "live"
	whatsAppSandbox = "sandbox"
)

// Config is the typed configuration of the server.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	// DatabaseMaxConns bounds the PostgreSQL pool of this node.
	DatabaseMaxConns int
	RedisURL         string
	RedisPrefix      string
	MigrateOnStart   string
	JWTSecret        string
	JWTPrevious      []string
	AccessTTL        time.Duration
	RefreshTTL       time.Duration
	AuthCacheTTL     time.Duration // 0: no principal cache
	PprofAddr        string        // empty: no profiling listener
	ExportDir        string        // empty: <DataDir>/exports
	ReleaseAfter     time.Duration // 0: keep the start's pages
	Tiers            ports.TierTable
	AuthRatePerMin   int
	LoginFailures    ports.Limit
	MaxBodyBytes     int64
	MaxMediaBytes    int64
	CORSOrigins      []string
	TrustedProxies   []string
	TLSCertFile      string
	TLSKeyFile       string
	ShutdownTimeout  time.Duration
	LogLevel         slog.Level
	MetricsToken     string // empty: /metrics is open
	NodeID           string
	BootstrapEmail   string
	BootstrapPass    string
	WhatsApp         string // whatsAppLive or whatsAppSandbox
	SandboxAddr      string
	QRTimeout        time.Duration
	QRNextTimeout    time.Duration
	ContactsRate     ports.Limit
	PairCodeRate     ports.Limit
	PairCodeSubRate  ports.Limit
	SendDelayMin     time.Duration
	SendDelayMax     time.Duration
	SendMaxAge       time.Duration
	SendTimeout      time.Duration
	RelayAfter       time.Duration
	EventRetention   time.Duration
	// Retention is the platform default of SPEC §18; RetentionEvery how
	// often its purge runs.
	Retention      ports.Retention
	RetentionEvery time.Duration
	QueueLease     time.Duration
	LeaseTTL       time.Duration
	// The webhook settings: the retry schedule and the SSRF guard's options.
	WebhookSchedule     []time.Duration
	WebhookAllowPrivate bool
	WebhookAllowHTTP    bool
	// WebhookConcurrency is how many deliveries this node makes at once.
	WebhookConcurrency int
	// The event stream's guard: how often it rechecks the token, and how
	// many streams a user may have open on this node.
	StreamRecheck  time.Duration
	StreamsPerUser int
	// Tracing is the OpenTelemetry configuration of the OTEL_* variables.
	Tracing tracing.Config
	// tracer receives the spans; set by serve (tracing.go), not from the
	// environment, and nil when tracing is off.
	tracer trace.TracerProvider
}

// redisPrefixPattern keeps the prefix free of the ':' and '{}' that Redis
// key names and asynq's hash tags give meaning to.
var redisPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// loadConfig reads every setting from getenv, falling back to the defaults.
func loadConfig(getenv func(string) string) (Config, error) {
	v := func(name string) string {
		if s := strings.TrimSpace(getenv(name)); s != "" {
			return s
		}
		for _, st := range settings {
			if st.name == name {
				return st.def
			}
		}
		panic("unknown setting " + name) // a programming error, caught by tests
	}
	var errs []string
	fail := func(name string, err error) { errs = append(errs, fmt.Sprintf("%s: %v", name, err)) }

	c := Config{
		Addr:           v("WAGATE_ADDR"),
		DataDir:        v("WAGATE_DATA_DIR"),
		DatabaseURL:    v("WAGATE_DATABASE_URL"),
		RedisURL:       v("WAGATE_REDIS_URL"),
		RedisPrefix:    v("WAGATE_REDIS_PREFIX"),
		MigrateOnStart: v("WAGATE_MIGRATE_ON_START"),
		JWTSecret:      v("WAGATE_JWT_SECRET"),
		JWTPrevious:    splitList(v("WAGATE_JWT_PREVIOUS_SECRETS")),
		CORSOrigins:    splitList(v("WAGATE_CORS_ORIGINS")),
		TrustedProxies: splitList(v("WAGATE_TRUSTED_PROXIES")),
		TLSCertFile:    v("WAGATE_TLS_CERT_FILE"),
		TLSKeyFile:     v("WAGATE_TLS_KEY_FILE"),
		NodeID:         v("WAGATE_NODE_ID"),
		BootstrapEmail: v("WAGATE_BOOTSTRAP_ADMIN_EMAIL"),
		BootstrapPass:  v("WAGATE_BOOTSTRAP_ADMIN_PASSWORD"),
		WhatsApp:       v("WAGATE_WHATSAPP"),
		SandboxAddr:    v("WAGATE_SANDBOX_ADDR"),
		MetricsToken:   v("WAGATE_METRICS_TOKEN"),
		PprofAddr:      v("WAGATE_PPROF_ADDR"),
		ExportDir:      v("WAGATE_EXPORT_DIR"),
	}
	var err error
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"WAGATE_ACCESS_TOKEN_TTL", &c.AccessTTL},
		{"WAGATE_REFRESH_TOKEN_TTL", &c.RefreshTTL},
		{"WAGATE_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout},
		{"WAGATE_QR_TIMEOUT", &c.QRTimeout},
		{"WAGATE_QR_NEXT_TIMEOUT", &c.QRNextTimeout},
		{"WAGATE_SEND_MAX_AGE", &c.SendMaxAge},
		{"WAGATE_SEND_TIMEOUT", &c.SendTimeout},
		{"WAGATE_RELAY_AFTER", &c.RelayAfter},
		{"WAGATE_EVENT_RETENTION", &c.EventRetention},
		{"WAGATE_RETENTION_PURGE_EVERY", &c.RetentionEvery},
		{"WAGATE_QUEUE_LEASE", &c.QueueLease},
		{"WAGATE_LEASE_TTL", &c.LeaseTTL},
		{"WAGATE_STREAM_RECHECK", &c.StreamRecheck},
	}
	for _, d := range durations {
		if *d.dst, err = positiveDuration(v(d.name)); err != nil {
			fail(d.name, err)
		}
	}
	if c.ReleaseAfter, err = boundedDuration(v("WAGATE_RELEASE_AFTER"), time.Hour); err != nil {
		fail("WAGATE_RELEASE_AFTER", err)
	}
	if c.AuthCacheTTL, err = authCacheTTL(v("WAGATE_AUTH_CACHE_TTL"), c); err != nil {
		fail("WAGATE_AUTH_CACHE_TTL", err)
	}
	if c.Retention, err = parseRetention(v("WAGATE_RETENTION")); err != nil {
		fail("WAGATE_RETENTION", err)
	}
	if c.Tiers, err = parseTiers(v("WAGATE_TIERS")); err != nil {
		fail("WAGATE_TIERS", err)
	}
	if c.AuthRatePerMin, err = positiveInt(v("WAGATE_AUTH_RATE_PER_MIN")); err != nil {
		fail("WAGATE_AUTH_RATE_PER_MIN", err)
	}
	if c.LoginFailures, err = parseLimit(v("WAGATE_LOGIN_FAILURES")); err != nil {
		fail("WAGATE_LOGIN_FAILURES", err)
	}
	if c.ContactsRate, err = parseLimit(v("WAGATE_CONTACTS_RATE")); err != nil {
		fail("WAGATE_CONTACTS_RATE", err)
	}
	if c.PairCodeRate, err = parseLimit(v("WAGATE_PAIR_CODE_RATE")); err != nil {
		fail("WAGATE_PAIR_CODE_RATE", err)
	}
	if c.PairCodeSubRate, err = parseLimit(v("WAGATE_PAIR_CODE_SUBSCRIPTION_RATE")); err != nil {
		fail("WAGATE_PAIR_CODE_SUBSCRIPTION_RATE", err)
	}
	if c.SendDelayMin, c.SendDelayMax, err = parseDelayRange(v("WAGATE_SEND_DELAY")); err != nil {
		fail("WAGATE_SEND_DELAY", err)
	}
	if c.WebhookSchedule, err = parseSchedule(v("WAGATE_WEBHOOK_SCHEDULE")); err != nil {
		fail("WAGATE_WEBHOOK_SCHEDULE", err)
	}
	if c.WebhookAllowPrivate, err = strconv.ParseBool(v("WAGATE_WEBHOOK_ALLOW_PRIVATE")); err != nil {
		fail("WAGATE_WEBHOOK_ALLOW_PRIVATE", fmt.Errorf("want true or false"))
	}
	if c.WebhookAllowHTTP, err = strconv.ParseBool(v("WAGATE_WEBHOOK_ALLOW_HTTP")); err != nil {
		fail("WAGATE_WEBHOOK_ALLOW_HTTP", fmt.Errorf("want true or false"))
	}
	if c.WebhookConcurrency, err = positiveInt(v("WAGATE_WEBHOOK_CONCURRENCY")); err != nil || c.WebhookConcurrency > maxWebhookConcurrency {
		fail("WAGATE_WEBHOOK_CONCURRENCY", fmt.Errorf("got %q, want a whole number from 1 to %d", v("WAGATE_WEBHOOK_CONCURRENCY"), maxWebhookConcurrency))
	}
	switch c.WhatsApp {
	case whatsAppLive:
		if c.SandboxAddr != "" {
			fail("WAGATE_SANDBOX_ADDR", fmt.Errorf("only used with WAGATE_WHATSAPP=sandbox"))
		}
	case whatsAppSandbox:
	default:
		fail("WAGATE_WHATSAPP", fmt.Errorf("got %q, want live or sandbox", c.WhatsApp))
	}
	if c.StreamsPerUser, err = positiveInt(v("WAGATE_STREAMS_PER_USER")); err != nil {
		fail("WAGATE_STREAMS_PER_USER", err)
	}
	if c.DatabaseMaxConns, err = positiveInt(v("WAGATE_DATABASE_MAX_CONNS")); err != nil {
		fail("WAGATE_DATABASE_MAX_CONNS", err)
	}
	body, err := positiveInt(v("WAGATE_MAX_BODY_BYTES"))
	if err != nil {
		fail("WAGATE_MAX_BODY_BYTES", err)
	}
	c.MaxBodyBytes = int64(body)
	media, err := positiveInt(v("WAGATE_MAX_MEDIA_BYTES"))
	if err != nil {
		fail("WAGATE_MAX_MEDIA_BYTES", err)
	}
	c.MaxMediaBytes = int64(media)
	if err := c.LogLevel.UnmarshalText([]byte(v("WAGATE_LOG_LEVEL"))); err != nil {
		fail("WAGATE_LOG_LEVEL", err)
	}
	switch c.MigrateOnStart {
	case "auto", "true", "false":
	default:
		fail("WAGATE_MIGRATE_ON_START", fmt.Errorf("got %q, want auto, true or false", c.MigrateOnStart))
	}
	if c.DatabaseURL != "" && !isPostgresURL(c.DatabaseURL) {
		fail("WAGATE_DATABASE_URL", fmt.Errorf("want a postgres:// or postgresql:// URL"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		fail("WAGATE_JWT_SECRET", fmt.Errorf("must be at least 32 bytes"))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		fail("WAGATE_TLS_CERT_FILE", fmt.Errorf("set both the certificate and the key file, or neither"))
	}
	if (c.BootstrapEmail == "") != (c.BootstrapPass == "") {
		fail("WAGATE_BOOTSTRAP_ADMIN_EMAIL", fmt.Errorf("set both the email and the password, or neither"))
	}
	// A token with a space could never be sent as one Bearer word.
	if strings.ContainsAny(c.MetricsToken, " \t") {
		fail("WAGATE_METRICS_TOKEN", fmt.Errorf("must be one word, without spaces"))
	}
	if !redisPrefixPattern.MatchString(c.RedisPrefix) {
		fail("WAGATE_REDIS_PREFIX", fmt.Errorf("got %q, want 1-64 letters, digits, '_', '.' or '-'", c.RedisPrefix))
	}
	if c.NodeID == "" {
		c.NodeID, _ = os.Hostname()
	}
	if c.NodeID == "" {
		c.NodeID = "wagate"
	}
	if len(c.NodeID) > 128 {
		fail("WAGATE_NODE_ID", fmt.Errorf("got %d characters, want at most 128", len(c.NodeID)))
	}
	if c.LeaseTTL > 0 && c.LeaseTTL < 3*time.Second {
		fail("WAGATE_LEASE_TTL", fmt.Errorf("got %s, want at least 3s", c.LeaseTTL))
	}
	// Renewed every third: below 3 s a busy database's slower write
	// would let a live job's claim lapse and the job run twice.
	if c.QueueLease > 0 && c.QueueLease < 3*time.Second {
		fail("WAGATE_QUEUE_LEASE", fmt.Errorf("got %s, want at least 3s", c.QueueLease))
	}
	c.Tracing = loadTracing(v, c.NodeID, fail)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// printHelp writes every setting with its default.
func printHelp(w io.Writer, usage string) {
	fmt.Fprintln(w, usage)
	fmt.Fprintln(w, "\nEnvironment:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, st := range settings {
		def := st.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", st.name, def, st.help)
	}
	tw.Flush()
}

// logConfig logs the effective settings with secrets masked.
func logConfig(log *slog.Logger, getenv func(string) string) {
	attrs := make([]any, 0, len(settings))
	for _, st := range settings {
		val := getenv(st.name)
		if val == "" {
			val = st.def
		}
		if st.secret && val != "" {
			val = maskSecret(st.name, val)
		}
		attrs = append(attrs, slog.String(st.name, val))
	}
	log.Info("configuration", slog.Group("config", attrs...))
}

// maskSecret hides a secret; of a URL only the credentials are hidden so the
// host stays visible for operators.
func maskSecret(name, val string) string {
	if strings.HasSuffix(name, "_URL") {
		if u, err := url.Parse(val); err == nil && u.Host != "" {
			if u.User != nil {
				u.User = url.User("****")
			}
			return u.Redacted()
		}
	}
	return "****"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func positiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("got %s, want a positive duration", s)
	}
	return d, nil
}

// defaultAuthCacheTTL is the principal cache's TTL where revocations can
// reach every node: a single SQLite node, or nodes sharing Redis.
const defaultAuthCacheTTL = 2 * time.Second

// authCacheTTL reads WAGATE_AUTH_CACHE_TTL: a duration up to a minute, or
// auto, which caches only where no other node could miss a revocation.
func authCacheTTL(s string, c Config) (time.Duration, error) {
	if s != "auto" {
		return boundedDuration(s, time.Minute)
	}
	if c.RedisURL != "" || c.DatabaseURL == "" {
		return defaultAuthCacheTTL, nil
	}
	return 0, nil
}

// boundedDuration accepts 0 (off) up to most.
func boundedDuration(s string, most time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 || d > most {
		return 0, fmt.Errorf("got %s, want 0 to %s", s, most)
	}
	return d, nil
}

// maxWebhookConcurrency bounds the delivery workers: each may hold a
// connection to a receiver and one to the database.
const maxWebhookConcurrency = 1000

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("got %q, want a whole number", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("got %d, want a positive number", n)
	}
	return n, nil
}

// parseLimit reads "count/period", e.g. "10/15m".
func parseLimit(s string) (ports.Limit, error) {
	count, period, ok := strings.Cut(s, "/")
	if !ok {
		return ports.Limit{}, fmt.Errorf("got %q, want count/period such as 10/15m", s)
	}
	n, err := positiveInt(count)
	if err != nil {
		return ports.Limit{}, err
	}
	d, err := positiveDuration(period)
	if err != nil {
		return ports.Limit{}, err
	}
	return ports.Limit{Count: n, Period: d}, nil
}

// parseDelayRange reads "1s-3s", or one duration such as "2s" or "0".
func parseDelayRange(s string) (lo, hi time.Duration, err error) {
	a, b, ranged := strings.Cut(s, "-")
	if lo, err = time.ParseDuration(strings.TrimSpace(a)); err != nil {
		return 0, 0, fmt.Errorf("got %q, want min-max such as 1s-3s", s)
	}
	hi = lo
	if ranged {
		if hi, err = time.ParseDuration(strings.TrimSpace(b)); err != nil {
			return 0, 0, fmt.Errorf("got %q, want min-max such as 1s-3s", s)
		}
	}
	if lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("got %q, want 0 <= min <= max", s)
	}
	return lo, hi, nil
}

// parseTiers reads "basic=5:600,pro=20:3000,max=40:6000". Every known tier
// must be present so that no subscription is left without limits.
func parseTiers(s string) (ports.TierTable, error) {
	tt := ports.TierTable{}
	for _, part := range splitList(s) {
		name, limits, ok := strings.Cut(part, "=")
		inst, rate, ok2 := strings.Cut(limits, ":")
		if !ok || !ok2 {
			return nil, fmt.Errorf("got %q, want tier=instances:requestsPerMinute", part)
		}
		i, err := positiveInt(inst)
		if err != nil {
			return nil, err
		}
		r, err := positiveInt(rate)
		if err != nil {
			return nil, err
		}
		tt[ports.Tier(name)] = ports.TierLimits{Instances: i, RequestsPerMinute: r}
	}
	for _, t := range []ports.Tier{ports.TierBasic, ports.TierPro, ports.TierMax} {
		if !tt.Valid(t) {
			return nil, fmt.Errorf("tier %s is missing", t)
		}
	}
	return tt, nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// parseSchedule reads a comma-separated list of non-negative durations,
// at least one.
func parseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q is not a non-negative duration", strings.TrimSpace(part))
		}
		out = append(out, d)
	}
	return out, nil
}

// parseRetention reads kind=days pairs (messages, media, deliveries,
// audit); a kind left out keeps forever.
func parseRetention(s string) (ports.Retention, error) {
	var r ports.Retention
	for _, part := range splitList(s) {
		kind, days, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(days))
		if !ok || err != nil || n < 0 || n > ports.MaxRetentionDays {
			return r, fmt.Errorf("got %q, want kind=days pairs such as messages=365,media=90 (days 0 to %d)", part, ports.MaxRetentionDays)
		}
		switch strings.TrimSpace(kind) {
		case "messages":
			r.MessagesDays = n
		case "media":
			r.MediaDays = n
		case "deliveries":
			r.DeliveriesDays = n
		case "audit":
			r.AuditDays = n
		default:
			return r, fmt.Errorf("unknown kind %q, want messages, media, deliveries or audit", kind)
		}
	}
	return r, nil
}
