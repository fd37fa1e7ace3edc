package messaging

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// instanceCache keeps the instances the accept path checked, for a short
// while: a send reads its instance (tenant, status, JID) on every request,
// and a backlog sent through one instance reads the same row each time.
// An entry is trusted for ttl (at most a second), and dropped at once on
// this node when the instance's status moves or it is deleted (Forget);
// other nodes see such a change within ttl. A stale entry is harmless: the
// accept path's check is advisory (a message accepted for an instance
// logged out or deleted a moment before fails at send time, as one
// accepted a moment before the change does).
type instanceCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	gen     uint64 // counts the drops: a read that raced one is not kept
	entries map[ports.InstanceID]cachedInstance
}

type cachedInstance struct {
	inst  ports.Instance
	until time.Time
}

// maxCachedInstances bounds the cache; it starts over when full.
const maxCachedInstances = 10_000

func newInstanceCache(ttl time.Duration) *instanceCache {
	if ttl <= 0 {
		return nil
	}
	return &instanceCache{ttl: min(ttl, time.Second), max: maxCachedInstances, entries: map[ports.InstanceID]cachedInstance{}}
}

// get returns the instance from the cache, or reads it through st and
// keeps it. ENotFound as st answers: another tenant's instance is never
// served from the cache.
func (c *instanceCache) get(ctx context.Context, st ports.InstanceStore, now time.Time, sub ports.SubscriptionID, id ports.InstanceID) (ports.Instance, error) {
	if c == nil {
		return st.GetInstance(ctx, sub, id)
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && e.inst.SubscriptionID == sub && now.Before(e.until) {
		return e.inst, nil
	}
	inst, err := st.GetInstance(ctx, sub, id)
	if err != nil {
		return inst, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
		c.entries[id] = cachedInstance{inst: inst, until: now.Add(c.ttl)}
	}
	return inst, nil
}

// forget drops the instance.
func (c *instanceCache) forget(id ports.InstanceID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	delete(c.entries, id)
	c.mu.Unlock()
}

// ForgetInstance drops what the accept path cached of the instance: its
// status moved, or it was deleted.
func (s *Service) ForgetInstance(id ports.InstanceID) { s.instances.forget(id) }
