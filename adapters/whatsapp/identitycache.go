package whatsapp

import (
	"context"
	"strings"
	"sync/atomic"

	"go.mau.fi/whatsmeow/store"
)

// identityCache remembers the identity keys a device has stored. Every
// send checks and saves the identity of each device it encrypts to (the
// recipient's and our own phone's), which whatsmeow's store does with a
// SELECT and an upsert each time: four statements a message that change
// nothing once the keys are known, and on SQLite two writes that wait
// for the file's one writer. The cache answers the check and skips a
// save of the key already stored; a new or changed key, and every
// deletion, still go to the database (rowCache says when a key is
// cached).
type identityCache struct {
	store.IdentityStore
	keys *rowCache[[32]byte]
}

func newIdentityCache(inner store.IdentityStore, gen *atomic.Uint64) *identityCache {
	return &identityCache{IdentityStore: inner, keys: newRowCache[[32]byte](gen, 0)}
}

func (c *identityCache) PutIdentity(ctx context.Context, address string, key [32]byte) error {
	if k, ok := c.keys.get(address); ok && k == key {
		return nil
	}
	return c.keys.write(ctx, []string{address},
		func() error { return c.IdentityStore.PutIdentity(ctx, address, key) },
		map[string][32]byte{address: key})
}

// IsTrustedIdentity answers as the store does: a known key must match; an
// address without one is trusted (and saved by the send).
func (c *identityCache) IsTrustedIdentity(ctx context.Context, address string, key [32]byte) (bool, error) {
	if k, ok := c.keys.get(address); ok {
		return k == key, nil
	}
	return c.IdentityStore.IsTrustedIdentity(ctx, address, key)
}

func (c *identityCache) DeleteIdentity(ctx context.Context, address string) error {
	return c.keys.write(ctx, []string{address},
		func() error { return c.IdentityStore.DeleteIdentity(ctx, address) }, nil)
}

// DeleteAllIdentities deletes the keys of every device of phone (Signal
// addresses "phone:device"), as the store does.
func (c *identityCache) DeleteAllIdentities(ctx context.Context, phone string) error {
	return c.keys.writeWide(ctx, ofUser(phone),
		func() error { return c.IdentityStore.DeleteAllIdentities(ctx, phone) })
}

// ofUser matches the Signal addresses of the users' devices.
func ofUser(users ...string) func(address string) bool {
	return func(address string) bool {
		for _, u := range users {
			if strings.HasPrefix(address, u+":") {
				return true
			}
		}
		return false
	}
}
