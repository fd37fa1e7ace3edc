package coretest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/ports"
)

// Epoch is the start time of a NewClock: a fixed instant keeps test output
// stable.
var Epoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a ports.Clock that only moves when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

var _ ports.Clock = (*Clock)(nil)

// NewClock returns a clock standing at Epoch.
func NewClock() *Clock { return &Clock{now: Epoch} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// IDs is a ports.IDGen returning "<Prefix>000001", "<Prefix>000002", ...
// Sequential ids sort in creation order, like UUIDv7.
type IDs struct {
	Prefix string
	n      atomic.Int64
}

var _ ports.IDGen = (*IDs)(nil)

// NewID returns the next id.
func (g *IDs) NewID() string {
	prefix := g.Prefix
	if prefix == "" {
		prefix = "id-"
	}
	return fmt.Sprintf("%s%06d", prefix, g.n.Add(1))
}
