package app

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.DatabaseURL != "" {
		t.Errorf("got addr %q dir %q db %q, want :8080 ./data and empty", c.Addr, c.DataDir, c.DatabaseURL)
	}
	if c.AccessTTL != 15*time.Minute || c.RefreshTTL != 720*time.Hour {
		t.Errorf("got TTLs %s/%s, want 15m/720h", c.AccessTTL, c.RefreshTTL)
	}
	if c.AuthCacheTTL != 2*time.Second || c.ReleaseAfter != 10*time.Second || c.PprofAddr != "" {
		t.Errorf("got auth cache %s, release after %s, pprof %q, want 2s, 10s and none", c.AuthCacheTTL, c.ReleaseAfter, c.PprofAddr)
	}
	// Nodes on PostgreSQL without Redis could not tell each other of a
	// revocation: no cache unless asked for.
	pgOnly := envOf(map[string]string{"WAGATE_DATABASE_URL": "postgres://db/wagate"})
	if c, err := loadConfig(pgOnly); err != nil || c.AuthCacheTTL != 0 {
		t.Errorf("postgres without redis: got auth cache %s (%v), want 0", c.AuthCacheTTL, err)
	}
	withRedis := envOf(map[string]string{"WAGATE_DATABASE_URL": "postgres://db/wagate", "WAGATE_REDIS_URL": "redis://r:6379/0"})
	if c, err := loadConfig(withRedis); err != nil || c.AuthCacheTTL != 2*time.Second {
		t.Errorf("postgres with redis: got auth cache %s (%v), want 2s", c.AuthCacheTTL, err)
	}
	if got, want := c.Tiers, ports.DefaultTiers(); len(got) != len(want) || got[ports.TierPro] != want[ports.TierPro] {
		t.Errorf("got tiers %v, want %v", got, want)
	}
	if c.LoginFailures != (ports.Limit{Count: 10, Period: 15 * time.Minute}) {
		t.Errorf("got login failures %v, want 10/15m", c.LoginFailures)
	}
	if !migrateOnStart(c) {
		t.Errorf("got no migration on start for SQLite, want it")
	}
	if c.WhatsApp != "live" || c.SandboxAddr != "" || c.QRTimeout != time.Minute || c.QRNextTimeout != 20*time.Second {
		t.Errorf("got whatsapp %q at %q, QR %s/%s, want live, in-process, 1m0s/20s", c.WhatsApp, c.SandboxAddr, c.QRTimeout, c.QRNextTimeout)
	}
	if c.ContactsRate != (ports.Limit{Count: 30, Period: time.Minute}) {
		t.Errorf("got contacts rate %v, want 30/1m", c.ContactsRate)
	}
	if c.PairCodeRate != (ports.Limit{Count: 3, Period: 10 * time.Minute}) || c.PairCodeSubRate != (ports.Limit{Count: 10, Period: time.Hour}) {
		t.Errorf("got pair code rates %v and %v, want 3/10m and 10/1h", c.PairCodeRate, c.PairCodeSubRate)
	}
	if c.EventRetention != 168*time.Hour {
		t.Errorf("got event retention %s, want 168h", c.EventRetention)
	}
	if c.SendTimeout != 20*time.Second || c.RelayAfter != 30*time.Second || c.QueueLease != 30*time.Second {
		t.Errorf("got send timeout %s, relay after %s, queue lease %s, want 20s, 30s, 30s", c.SendTimeout, c.RelayAfter, c.QueueLease)
	}
}

func TestLoadConfigSandbox(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{"WAGATE_WHATSAPP": "sandbox", "WAGATE_SANDBOX_ADDR": "127.0.0.1:7070"}))
	if err != nil || c.WhatsApp != "sandbox" || c.SandboxAddr != "127.0.0.1:7070" {
		t.Fatalf("got %q at %q, %v, want sandbox at 127.0.0.1:7070", c.WhatsApp, c.SandboxAddr, err)
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, key, val, want string
	}{
		{"short secret", "WAGATE_JWT_SECRET", "short", "WAGATE_JWT_SECRET"},
		{"mysql url", "WAGATE_DATABASE_URL", "mysql://x", "WAGATE_DATABASE_URL"},
		{"bad ttl", "WAGATE_ACCESS_TOKEN_TTL", "soon", "WAGATE_ACCESS_TOKEN_TTL"},
		{"negative ttl", "WAGATE_REFRESH_TOKEN_TTL", "-1h", "WAGATE_REFRESH_TOKEN_TTL"},
		{"auth cache too long", "WAGATE_AUTH_CACHE_TTL", "2m", "WAGATE_AUTH_CACHE_TTL"},
		{"auth cache negative", "WAGATE_AUTH_CACHE_TTL", "-1s", "WAGATE_AUTH_CACHE_TTL"},
		{"release after malformed", "WAGATE_RELEASE_AFTER", "later", "WAGATE_RELEASE_AFTER"},
		{"tier missing", "WAGATE_TIERS", "basic=5:600,max=40:6000", "tier pro is missing"},
		{"tier malformed", "WAGATE_TIERS", "basic=5", "WAGATE_TIERS"},
		{"rate zero", "WAGATE_AUTH_RATE_PER_MIN", "0", "WAGATE_AUTH_RATE_PER_MIN"},
		{"limit malformed", "WAGATE_LOGIN_FAILURES", "10", "WAGATE_LOGIN_FAILURES"},
		{"log level", "WAGATE_LOG_LEVEL", "loud", "WAGATE_LOG_LEVEL"},
		{"migrate mode", "WAGATE_MIGRATE_ON_START", "maybe", "WAGATE_MIGRATE_ON_START"},
		{"half tls", "WAGATE_TLS_CERT_FILE", "cert.pem", "WAGATE_TLS_CERT_FILE"},
		{"half bootstrap", "WAGATE_BOOTSTRAP_ADMIN_EMAIL", "a@example.com", "WAGATE_BOOTSTRAP_ADMIN_EMAIL"},
		{"whatsapp mode", "WAGATE_WHATSAPP", "mock", "WAGATE_WHATSAPP"},
		{"sandbox addr when live", "WAGATE_SANDBOX_ADDR", "127.0.0.1:7070", "WAGATE_SANDBOX_ADDR"},
		{"qr timeout", "WAGATE_QR_TIMEOUT", "0s", "WAGATE_QR_TIMEOUT"},
		{"next qr timeout", "WAGATE_QR_NEXT_TIMEOUT", "soon", "WAGATE_QR_NEXT_TIMEOUT"},
		{"contacts rate", "WAGATE_CONTACTS_RATE", "30", "WAGATE_CONTACTS_RATE"},
		{"metrics token of two words", "WAGATE_METRICS_TOKEN", "two words", "WAGATE_METRICS_TOKEN"},
		{"send timeout", "WAGATE_SEND_TIMEOUT", "0s", "WAGATE_SEND_TIMEOUT"},
		{"relay after", "WAGATE_RELAY_AFTER", "soon", "WAGATE_RELAY_AFTER"},
		{"event retention", "WAGATE_EVENT_RETENTION", "0s", "WAGATE_EVENT_RETENTION"},
		{"queue lease under 3s", "WAGATE_QUEUE_LEASE", "2s", "WAGATE_QUEUE_LEASE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(envOf(map[string]string{tt.key: tt.val}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestLoadConfigPostgresDoesNotMigrateByDefault(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{"WAGATE_DATABASE_URL": "postgres://u@h/db"}))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if migrateOnStart(c) {
		t.Errorf("got migration on start for PostgreSQL in auto mode, want none")
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var buf bytes.Buffer
	if err := Run(t.Context(), []string{"serve", "--help"}, envOf(nil), &buf); err != nil {
		t.Fatalf("serve --help: %v", err)
	}
	for _, st := range settings {
		if !strings.Contains(buf.String(), st.name) {
			t.Errorf("--help does not list %s", st.name)
		}
	}
}

func TestLogConfigMasksSecrets(t *testing.T) {
	var buf bytes.Buffer
	env := map[string]string{
		"WAGATE_JWT_SECRET":               "0123456789abcdef0123456789abcdef-secret",
		"WAGATE_DATABASE_URL":             "postgres://user:hunter2@db.internal:5432/wagate",
		"WAGATE_BOOTSTRAP_ADMIN_PASSWORD": "admin-pass-123",
		"WAGATE_METRICS_TOKEN":            "scrape-token-456",
	}
	logConfig(newLogger(&buf, 0, "n1"), envOf(env))
	out := buf.String()
	for _, secret := range []string{"-secret", "hunter2", "admin-pass-123", "scrape-token-456"} {
		if strings.Contains(out, secret) {
			t.Errorf("logged config contains %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db.internal") {
		t.Errorf("logged config hides the database host; want it visible: %s", out)
	}
}

func TestUnknownCommand(t *testing.T) {
	var buf bytes.Buffer
	if err := Run(t.Context(), []string{"fly"}, envOf(nil), &buf); err == nil {
		t.Errorf("got no error for an unknown command")
	}
}

func TestReadPassword(t *testing.T) {
	env := envOf(map[string]string{"PW": "from-env"})
	if p, err := readPassword(env, "PW", false, nil); err != nil || p != "from-env" {
		t.Errorf("env: got %q, %v, want from-env", p, err)
	}
	if p, err := readPassword(env, "", true, strings.NewReader("from-stdin\nrest")); err != nil || p != "from-stdin" {
		t.Errorf("stdin: got %q, %v, want from-stdin", p, err)
	}
	if _, err := readPassword(env, "", false, nil); err == nil {
		t.Errorf("none: got no error, want one")
	}
	if _, err := readPassword(env, "MISSING", false, nil); err == nil {
		t.Errorf("empty env: got no error, want one")
	}
}
