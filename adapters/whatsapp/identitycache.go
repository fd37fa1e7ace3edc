package whatsapp

import (
	"context"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
)

// identityCache remembers the identity keys a device has stored. Every
// send checks and saves the identity of each device it encrypts to (the
// recipient's and our own phone's), which whatsmeow's store does with a
// SELECT and an upsert each time: four statements a message that change
// nothing once the keys are known, and on SQLite two writes that wait
// for the file's one writer. The cache answers the check and skips a
// save of the key already stored; a new or changed key, and every
// deletion, still go to the database.
//
// One client uses a device at a time (the instance's lease holder), and
// all its reads and writes of identities go through here; rows deleted
// behind it (ErasePeer) bump gen, which makes every cache start over.
//
// mu is never held across a database call: whatsmeow checks identities
// inside its decryption transaction, which holds SQLite's one writer (or
// PostgreSQL row locks) while it waits for mu, so a save that held mu
// while it waited for the writer deadlocked with it (until the write
// gate gave up after 10 s). A write instead marks itself in flight, and
// its key is cached only when no other write of the device overlapped
// it: then the database holds what the cache says.
type identityCache struct {
	store.IdentityStore
	gen *atomic.Uint64

	mu       sync.Mutex
	seen     uint64 // gen when keys was last emptied
	started  uint64 // writes started
	inFlight int    // writes started and not ended
	keys     map[string][32]byte
	// migrated are the numbers (Signal address users) whose keys moved to
	// their LID's (migratingSessions).
	migrated map[string]bool
}

func newIdentityCache(inner store.IdentityStore, gen *atomic.Uint64) *identityCache {
	return &identityCache{IdentityStore: inner, gen: gen, seen: gen.Load(), keys: map[string][32]byte{}, migrated: map[string]bool{}}
}

// known returns the key stored for address, when the cache knows it.
// Caller holds mu.
func (c *identityCache) known(address string) ([32]byte, bool) {
	if g := c.gen.Load(); g != c.seen {
		clear(c.keys)
		clear(c.migrated) // an erased number's keys may come back under it
		c.seen = g
	}
	k, ok := c.keys[address]
	return k, ok
}

// write runs do, a database write of identities, without holding mu:
// forget drops what it changes from the cache before and after it (a
// write that overlapped it may have cached the old value), and keep,
// when set, caches its result once do succeeded, if no other write
// overlapped it and no erasure came meanwhile.
func (c *identityCache) write(forget func(), do func() error, keep func()) error {
	c.mu.Lock()
	c.known("") // start over first if the rows were erased
	forget()
	c.started++
	n, alone, gen := c.started, c.inFlight == 0, c.seen
	c.inFlight++
	c.mu.Unlock()

	err := do()

	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
	forget()
	if err == nil && keep != nil && alone && c.started == n && c.gen.Load() == gen {
		keep()
	}
	return err
}

func (c *identityCache) PutIdentity(ctx context.Context, address string, key [32]byte) error {
	c.mu.Lock()
	k, ok := c.known(address)
	c.mu.Unlock()
	if ok && k == key {
		return nil
	}
	return c.write(func() { delete(c.keys, address) },
		func() error { return c.IdentityStore.PutIdentity(ctx, address, key) },
		func() { c.keys[address] = key })
}

// IsTrustedIdentity answers as the store does: a known key must match; an
// address without one is trusted (and saved by the send).
func (c *identityCache) IsTrustedIdentity(ctx context.Context, address string, key [32]byte) (bool, error) {
	c.mu.Lock()
	k, ok := c.known(address)
	c.mu.Unlock()
	if ok {
		return k == key, nil
	}
	return c.IdentityStore.IsTrustedIdentity(ctx, address, key)
}

func (c *identityCache) DeleteIdentity(ctx context.Context, address string) error {
	return c.write(func() { delete(c.keys, address) },
		func() error { return c.IdentityStore.DeleteIdentity(ctx, address) }, nil)
}

func (c *identityCache) DeleteAllIdentities(ctx context.Context, phone string) error {
	return c.write(func() { clear(c.keys) },
		func() error { return c.IdentityStore.DeleteAllIdentities(ctx, phone) }, nil)
}

// migratingSessions makes the identity cache forget a contact's keys
// while whatsmeow moves them from its phone number's Signal addresses to its LID's,
// which the store does in SQL, behind the cache.
type migratingSessions struct {
	store.SessionStore
	ids *identityCache
}

func (s migratingSessions) MigratePNToLID(ctx context.Context, pn, lid types.JID) error {
	c := s.ids
	// whatsmeow asks on every send to a number with a LID; the store
	// copies the keys of the number's addresses (user:device) to the
	// LID's the first time and then does nothing, so the cache forgets
	// the two users' keys the first time only.
	from, to := pn.SignalAddressUser(), lid.SignalAddressUser()
	c.mu.Lock()
	c.known("")
	done := c.migrated[from]
	c.mu.Unlock()
	move := func() error { return s.SessionStore.MigratePNToLID(ctx, pn, lid) }
	if done {
		return move()
	}
	return c.write(func() {
		maps.DeleteFunc(c.keys, func(addr string, _ [32]byte) bool {
			return strings.HasPrefix(addr, from+":") || strings.HasPrefix(addr, to+":")
		})
	}, move, func() { c.migrated[from] = true })
}

// cacheIdentities puts a cache in front of dev's identity store: at once
// for a device loaded from the store, and for a new one when the pairing
// first saves it (the store only exists from then on: cachingContainer).
// No client may use dev yet.
func (m *Manager) cacheIdentities(dev *store.Device) {
	if dev.Initialized {
		if _, done := dev.Identities.(*identityCache); !done {
			ids := newIdentityCache(dev.Identities, &m.identityGen)
			dev.Identities = ids
			dev.Sessions = migratingSessions{SessionStore: dev.Sessions, ids: ids}
		}
		return
	}
	dev.Container = &cachingContainer{Container: m.container, m: m}
}

// cachingContainer is the container of a device being paired: whatsmeow
// saves the device once it has its JID, and the store then sets up the
// device's stores, which get the cache before the pairing goes on. The
// store then makes itself the device's container again.
type cachingContainer struct {
	*sqlstore.Container
	m *Manager
}

func (c *cachingContainer) PutDevice(ctx context.Context, dev *store.Device) error {
	err := c.Container.PutDevice(ctx, dev)
	if dev.Initialized {
		c.m.cacheIdentities(dev)
	}
	return err
}
