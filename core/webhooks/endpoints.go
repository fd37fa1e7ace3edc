package webhooks

import (
	"context"
	"sync"

	"github.com/wagate/wagate/ports"
)

// endpointCache keeps the endpoints that drains post to, so that an
// attempt does not read its endpoint. It needs no expiry for correctness:
// the claim checks that the endpoint is still enabled and as cached (its
// UpdatedAt, which every change sets), on this node or another, so a stale
// entry costs one refused claim and a read, never a post to an old URL or
// with an old secret. This process's own changes drop their entry at once,
// which also covers two changes within one tick of the clock.
type endpointCache struct {
	mu sync.Mutex
	m  map[ports.WebhookID]ports.WebhookEndpoint
}

// maxCachedEndpoints bounds the cache; past it, it starts over.
const maxCachedEndpoints = 10_000

func newEndpointCache() *endpointCache {
	return &endpointCache{m: map[ports.WebhookID]ports.WebhookEndpoint{}}
}

func (c *endpointCache) get(sub ports.SubscriptionID, id ports.WebhookID) (ports.WebhookEndpoint, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[id]
	return w, ok && w.SubscriptionID == sub
}

func (c *endpointCache) put(w ports.WebhookEndpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[w.ID]; !ok && len(c.m) >= maxCachedEndpoints {
		clear(c.m)
	}
	c.m[w.ID] = w
}

func (c *endpointCache) forget(id ports.WebhookID) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// cachedEndpoint returns the endpoint from the cache, or reads it.
// ENotFound if it is missing or another tenant's.
func (s *Service) cachedEndpoint(ctx context.Context, sub ports.SubscriptionID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	if w, ok := s.endpoints.get(sub, id); ok {
		return w, nil
	}
	return s.freshEndpoint(ctx, sub, id)
}

// freshEndpoint reads the endpoint and caches what it read.
func (s *Service) freshEndpoint(ctx context.Context, sub ports.SubscriptionID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	w, err := s.d.Stores.Webhooks.GetWebhook(ctx, sub, id)
	if err != nil {
		s.endpoints.forget(id)
		return w, err
	}
	s.endpoints.put(w)
	return w, nil
}
