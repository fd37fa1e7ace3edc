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
// deletion, still go to the database first.
//
// One client uses a device at a time (the instance's lease holder), and
// all its reads and writes of identities go through here; rows deleted
// behind it (ErasePeer) bump gen, which makes every cache start over.
type identityCache struct {
	store.IdentityStore
	gen *atomic.Uint64

	mu   sync.Mutex // held across the database writes, so the map follows them in order
	seen uint64     // gen when keys was last emptied
	keys map[string][32]byte
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

func (c *identityCache) PutIdentity(ctx context.Context, address string, key [32]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.known(address); ok && k == key {
		return nil
	}
	if err := c.IdentityStore.PutIdentity(ctx, address, key); err != nil {
		delete(c.keys, address)
		return err
	}
	c.keys[address] = key
	return nil
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
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, address)
	return c.IdentityStore.DeleteIdentity(ctx, address)
}

func (c *identityCache) DeleteAllIdentities(ctx context.Context, phone string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.keys)
	return c.IdentityStore.DeleteAllIdentities(ctx, phone)
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
	c.mu.Lock()
	defer c.mu.Unlock()
	// whatsmeow asks on every send to a number with a LID; the store
	// copies the keys of the number's addresses (user:device) to the
	// LID's the first time and then does nothing, so the cache forgets
	// the two users' keys the first time only.
	from := pn.SignalAddressUser()
	if c.migrated[from] {
		return s.SessionStore.MigratePNToLID(ctx, pn, lid)
	}
	to := lid.SignalAddressUser()
	maps.DeleteFunc(c.keys, func(addr string, _ [32]byte) bool {
		return strings.HasPrefix(addr, from+":") || strings.HasPrefix(addr, to+":")
	})
	err := s.SessionStore.MigratePNToLID(ctx, pn, lid)
	if err == nil {
		c.migrated[from] = true
	}
	return err
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
