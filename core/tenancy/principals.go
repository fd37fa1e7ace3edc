package tenancy

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Principals caches authenticated callers for a few seconds, so that a
// busy API key or access token costs its database read once per TTL
// rather than once per request. Entries are keyed by the SHA-256 of the
// credential, never the credential itself.
//
// Whatever takes rights away calls Revoke after its commit: the entries it
// covers are dropped here at once and on every other node through the
// bus. The callers today: keys.Delete (the key), sessions' instance
// deletion (the instance's keys), Logout and refresh reuse (the token and
// its families), ChangePassword (the user), ChangeTier (the
// subscription). Issue 16's role changes must revoke the user, and a
// subscription suspension the subscription. The TTL is the safety net
// for a revocation the bus lost (Redis down) or a change made straight in
// the database.
//
// A nil *Principals caches nothing, which is what tests of the modules
// that take one get by default.
type Principals struct {
	clock ports.Clock
	bus   ports.RevocationBus // nil: a single node
	log   *slog.Logger
	ttl   time.Duration
	max   int

	mu      sync.Mutex
	gen     uint64 // counts the drops, see Lookup
	entries map[[sha256.Size]byte]cachedPrincipal
	swept   time.Time
}

type cachedPrincipal struct {
	p     ports.Principal
	until time.Time
}

// PrincipalCacheConfig sizes the cache.
type PrincipalCacheConfig struct {
	TTL        time.Duration // how long a principal is trusted without a read; 0 disables the cache
	MaxEntries int           // credentials kept at once; 10,000 when 0
}

// NewPrincipals returns a cache, or nil (no caching) for a zero TTL. bus
// may be nil on a single node.
func NewPrincipals(cfg PrincipalCacheConfig, clock ports.Clock, bus ports.RevocationBus, log *slog.Logger) *Principals {
	if cfg.TTL <= 0 {
		return nil
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10_000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Principals{clock: clock, bus: bus, log: log, ttl: cfg.TTL, max: cfg.MaxEntries,
		entries: map[[sha256.Size]byte]cachedPrincipal{}}
}

// CredentialKey is the cache key of a presented credential.
func CredentialKey(credential string) [sha256.Size]byte {
	return sha256.Sum256([]byte(credential))
}

// Lookup returns the principal cached under key. On a miss it returns the
// generation to hand to Store: a principal read from the database while a
// revocation was being applied is then not stored, since the read may have
// seen the rights from before it.
func (c *Principals) Lookup(key [sha256.Size]byte) (ports.Principal, uint64, bool) {
	if c == nil {
		return ports.Principal{}, 0, false
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if ok && now.Before(e.until) {
		return e.p, c.gen, true
	}
	if ok {
		delete(c.entries, key)
	}
	return ports.Principal{}, c.gen, false
}

// Store caches p under key until the TTL or until, whichever comes first
// (the credential's own expiry), unless something was dropped since the
// Lookup that returned gen.
func (c *Principals) Store(key [sha256.Size]byte, p ports.Principal, until time.Time, gen uint64) {
	if c == nil {
		return
	}
	now := c.clock.Now()
	if ttl := now.Add(c.ttl); until.IsZero() || ttl.Before(until) {
		until = ttl
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !now.Before(until) {
		return
	}
	if len(c.entries) >= c.max && !c.sweep(now) {
		return // full of live entries: this one is read from the store each time
	}
	c.entries[key] = cachedPrincipal{p: p, until: until}
}

// sweep forgets expired entries, at most once per TTL so that a cache
// full of live entries does not scan on every Store; it reports whether
// room was made.
func (c *Principals) sweep(now time.Time) bool {
	if now.Sub(c.swept) < c.ttl {
		return false
	}
	c.swept = now
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		}
	}
	return len(c.entries) < c.max
}

// Revoke drops what r covers here, then tells the other nodes. A bus
// failure is logged, not returned: the change it follows is committed,
// and the other nodes' entries expire within the TTL anyway.
func (c *Principals) Revoke(ctx context.Context, r ports.Revocation) {
	if c == nil || r.Empty() {
		return
	}
	c.Drop(r)
	if c.bus == nil {
		return
	}
	if err := c.bus.PublishRevocation(ctx, r); err != nil {
		c.log.WarnContext(ctx, "revocation not sent to the other nodes; their caches expire within the TTL",
			"ttl", c.ttl, "err", err)
	}
}

// Drop forgets the principals r covers, on this node only: the bus calls
// it for the other nodes' revocations.
func (c *Principals) Drop(r ports.Revocation) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if r.Covers(e.p) {
			delete(c.entries, k)
		}
	}
}

// Flush forgets everything: the bus calls it when it may have missed
// revocations (its connection to the other nodes was lost).
func (c *Principals) Flush() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
