package coretest

import (
	"sync"

	"github.com/wagate/wagate/ports"
)

// Owner tells which instances this node holds (the Owner of the sessions
// and messaging modules): those Set to held, none at first.
type Owner struct {
	mu   sync.Mutex
	held map[ports.InstanceID]bool
}

// Owns reports whether id was last Set to held.
func (o *Owner) Owns(id ports.InstanceID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.held[id]
}

// Set makes this node hold id, or not.
func (o *Owner) Set(id ports.InstanceID, held bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.held == nil {
		o.held = map[ports.InstanceID]bool{}
	}
	o.held[id] = held
}
