package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/argon2id"
	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/jwt"
	"github.com/wagate/wagate/adapters/ratelimit"
	"github.com/wagate/wagate/adapters/uuidv7"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// system is every long-lived part of a running wagate, wired together.
type system struct {
	store    *entstore.Store
	redis    *redis.Client // nil on the embedded default
	limiter  ports.RateLimiter
	tenancy  *tenancy.Service
	keys     *keys.Service
	sessions *sessions.Service
}

// openStore opens the database chosen by the configuration and applies
// migrations when asked to.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, migrate bool) (*entstore.Store, error) {
	st, err := entstore.Open(ctx, entstore.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Log: log})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
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
func build(ctx context.Context, cfg Config, log *slog.Logger) (*system, error) {
	st, err := openStore(ctx, cfg, log, migrateOnStart(cfg))
	if err != nil {
		return nil, err
	}
	sys := &system{store: st}
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			sys.close()
			return nil, fmt.Errorf("WAGATE_REDIS_URL: %w", err)
		}
		sys.redis = redis.NewClient(opt)
		if err := sys.redis.Ping(ctx).Err(); err != nil {
			sys.close()
			return nil, fmt.Errorf("connect to redis: %w", err)
		}
		if sys.limiter, err = ratelimit.NewRedis(sys.redis, "wagate:rl:"); err != nil {
			sys.close()
			return nil, fmt.Errorf("rate limiter: %w", err)
		}
	} else {
		sys.limiter = ratelimit.NewMemory()
	}

	secret, err := jwtSecret(cfg, log)
	if err != nil {
		sys.close()
		return nil, err
	}
	previous := make([][]byte, 0, len(cfg.JWTPrevious))
	for _, p := range cfg.JWTPrevious {
		previous = append(previous, []byte(p))
	}
	// Microseconds are what PostgreSQL keeps; rounding here makes a value
	// read back equal to the one first returned.
	clock := ports.ClockFunc(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	issuer, err := jwt.New(jwt.Options{Secret: secret, Previous: previous, Clock: clock})
	if err != nil {
		sys.close()
		return nil, fmt.Errorf("jwt: %w", err)
	}
	ids := uuidv7.New()
	stores := st.Stores()
	sys.tenancy = tenancy.New(tenancy.Deps{
		Tx: st, Stores: stores, Clock: clock, IDs: ids, Hasher: argon2id.Default(),
		Tokens: issuer, Limiter: sys.limiter, Log: log,
	}, tenancy.Config{
		AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL,
		Tiers: cfg.Tiers, LoginFailures: cfg.LoginFailures,
	})
	sys.keys = keys.New(keys.Deps{Tx: st, Stores: stores, Clock: clock, IDs: ids, Log: log})
	sys.sessions = sessions.New(sessions.Deps{Tx: st, Stores: stores, Clock: clock, IDs: ids, Tiers: cfg.Tiers, Log: log})
	return sys, nil
}

// close releases what build opened, the database last.
func (s *system) close() {
	if s.redis != nil {
		s.redis.Close()
	}
	if s.store != nil {
		s.store.Close()
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
