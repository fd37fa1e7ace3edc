package webhooks

import (
	"sync"

	"github.com/wagate/wagate/ports"
)

// recentClaims remembers the attempt counts of the deliveries this process
// claimed or recorded last. Under a burst, a drain makes many deliveries
// whose own jobs are still queued; when those jobs run, this tells them
// that their attempt was made without a read. Only a count above the
// job's is proof: anything else (an entry evicted, a claim on another
// node) goes to the database as before.
type recentClaims struct {
	mu   sync.Mutex
	m    map[ports.DeliveryID]int
	ring []ports.DeliveryID // insertion order, for eviction
	next int
}

// maxRecentClaims bounds the memory: a few seconds of a busy node.
const maxRecentClaims = 4096

func newRecentClaims() *recentClaims {
	return &recentClaims{m: map[ports.DeliveryID]int{}, ring: make([]ports.DeliveryID, maxRecentClaims)}
}

// note records the delivery's attempt count as this process last wrote it.
func (r *recentClaims) note(id ports.DeliveryID, attempts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[id]; !ok {
		if old := r.ring[r.next]; old != "" {
			delete(r.m, old)
		}
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.m[id] = attempts
}

// made tells whether the job's attempt is known to have been made.
func (r *recentClaims) made(id ports.DeliveryID, attempt int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.m[id]
	return ok && n > attempt
}
