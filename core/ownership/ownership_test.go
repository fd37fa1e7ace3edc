package ownership_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/ownership"
	"github.com/wagate/wagate/ports"
)

const ttl = 15 * time.Second

// directory is a fake InstanceDirectory over a map of statuses.
type directory struct {
	mu       sync.Mutex
	statuses map[ports.InstanceID]ports.InstanceStatus
	pairing  map[ports.InstanceID]bool // no device yet: no JID
}

func newDirectory(n int) *directory {
	d := &directory{statuses: map[ports.InstanceID]ports.InstanceStatus{}, pairing: map[ports.InstanceID]bool{}}
	for i := range n {
		d.statuses[ports.InstanceID(fmt.Sprintf("inst-%02d", i))] = ports.StatusConnected
	}
	return d
}

func (d *directory) set(id ports.InstanceID, st ports.InstanceStatus) {
	d.mu.Lock()
	d.statuses[id] = st
	d.mu.Unlock()
}

func (d *directory) ListInstancesByStatus(_ context.Context, statuses []ports.InstanceStatus, _ ports.PageRequest) (ports.Page[ports.Instance], error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var p ports.Page[ports.Instance]
	for _, id := range slices.Sorted(maps.Keys(d.statuses)) {
		if slices.Contains(statuses, d.statuses[id]) {
			inst := ports.Instance{ID: id, Status: d.statuses[id], JID: string(id) + "@s.whatsapp.net"}
			if d.pairing[id] {
				inst.JID = ""
			}
			p.Items = append(p.Items, inst)
		}
	}
	return p, nil
}

func (d *directory) LookupInstance(_ context.Context, id ports.InstanceID) (ports.Instance, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.statuses[id]
	if !ok {
		return ports.Instance{}, ports.Errorf(ports.ENotFound, "instance not found")
	}
	return ports.Instance{ID: id, Status: st}, nil
}

// network records which node has a connection of which instance, and
// fails the test if two nodes ever connect one instance at once.
type network struct {
	t     *testing.T
	mu    sync.Mutex
	conns map[ports.InstanceID]string
}

// node is one node's Instances: its connections on the shared network.
type node struct {
	name string
	net  *network
}

func (n *node) Adopt(_ context.Context, id ports.InstanceID) error {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	if other, ok := n.net.conns[id]; ok && other != n.name {
		n.net.t.Errorf("%s connects %s while %s holds it", n.name, id, other)
	}
	n.net.conns[id] = n.name
	return nil
}

func (n *node) Drop(_ context.Context, id ports.InstanceID) error {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	if n.net.conns[id] == n.name {
		delete(n.net.conns, id)
	}
	return nil
}

// connected returns how many instances each node has connected.
func (w *network) connected() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for _, n := range w.conns {
		out[n]++
	}
	return out
}

// cluster is several services sharing one lease store, directory and
// network, on one fake clock.
type cluster struct {
	t      *testing.T
	clock  *coretest.Clock
	leases *coretest.Leases
	dir    *directory
	net    *network
	nodes  map[string]*ownership.Service
	seen   *observer
}

// observer counts what the nodes report for metrics.
type observer struct {
	mu                   sync.Mutex
	news, takeovers, los int
}

func (o *observer) Claimed(takeover bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if takeover {
		o.takeovers++
	} else {
		o.news++
	}
}

func (o *observer) Lost() {
	o.mu.Lock()
	o.los++
	o.mu.Unlock()
}

func newCluster(t *testing.T, instances int, names ...string) *cluster {
	c := &cluster{
		t: t, clock: coretest.NewClock(), leases: coretest.NewLeases(), dir: newDirectory(instances),
		net:   &network{t: t, conns: map[ports.InstanceID]string{}},
		nodes: map[string]*ownership.Service{}, seen: &observer{},
	}
	for _, name := range names {
		s := ownership.New(ownership.Deps{
			Leases: c.leases, Directory: c.dir, Clock: c.clock, Observer: c.seen,
		}, ownership.Config{Node: ports.NodeID(name), TTL: ttl})
		s.SetInstances(&node{name: name, net: c.net})
		c.nodes[name] = s
	}
	return c
}

// tick runs one tick of each named node, in order, and waits for its
// connects.
func (c *cluster) tick(names ...string) {
	c.t.Helper()
	for _, name := range names {
		s := c.nodes[name]
		if err := s.Tick(c.t.Context()); err != nil {
			c.t.Fatalf("tick %s: %v", name, err)
		}
		s.Wait()
	}
}

func (c *cluster) wantConnected(want map[string]int) {
	c.t.Helper()
	got := c.net.connected()
	if !maps.Equal(got, want) {
		c.t.Errorf("connections per node: got %v, want %v", got, want)
	}
	for name, s := range c.nodes {
		if n := len(s.Owned()); n != want[name] {
			c.t.Errorf("%s owns %d instances, want %d", name, n, want[name])
		}
	}
}

func TestSingleNodeClaimsWantedInstances(t *testing.T) {
	c := newCluster(t, 4, "a")
	c.dir.set("inst-03", ports.StatusLoggedOut)
	c.dir.set("inst-99", ports.StatusCreated)
	c.tick("a")
	c.wantConnected(map[string]int{"a": 3})
	a := c.nodes["a"]
	if !a.Owns("inst-00") || a.Owns("inst-03") {
		t.Errorf("owns inst-00, inst-03: got %v, %v; want true, false", a.Owns("inst-00"), a.Owns("inst-03"))
	}
	// Renewing keeps them past the first TTL.
	c.clock.Advance(ttl / 3)
	c.tick("a")
	c.clock.Advance(ttl - time.Second)
	if !a.Owns("inst-00") {
		t.Errorf("owns inst-00 after renewals: got false, want true")
	}
}

func TestFairShareAfterANodeJoins(t *testing.T) {
	c := newCluster(t, 10, "a", "b")
	c.tick("a")
	c.wantConnected(map[string]int{"a": 10})
	// b joins: it sees everything held, so a sheds to its share and b
	// claims what a let go.
	c.tick("b")
	c.wantConnected(map[string]int{"a": 10})
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	c.wantConnected(map[string]int{"a": 5, "b": 5})
	// Stable from then on.
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	c.wantConnected(map[string]int{"a": 5, "b": 5})
}

func TestFairShareToleratesOneExtra(t *testing.T) {
	c := newCluster(t, 5, "a", "b")
	c.tick("a")
	c.tick("b")
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	// share ceil(5/2) = 3: a sheds to 3 (5 > 4) and b takes 2.
	c.wantConnected(map[string]int{"a": 3, "b": 2})
}

func TestPairingsAreNotShed(t *testing.T) {
	c := newCluster(t, 4, "a", "b")
	// a pairs every instance itself (the connects came to it): none has a
	// device yet, so none may move when b joins.
	for _, id := range []ports.InstanceID{"inst-00", "inst-01", "inst-02", "inst-03"} {
		c.dir.mu.Lock()
		c.dir.pairing[id] = true
		c.dir.mu.Unlock()
		if err := c.nodes["a"].Acquire(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	c.tick("b")
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	if n := len(c.nodes["a"].Owned()); n != 4 {
		t.Errorf("pairings a holds after b joined: got %d, want all 4", n)
	}
	// Once linked, they are spread.
	c.dir.mu.Lock()
	clear(c.dir.pairing)
	c.dir.mu.Unlock()
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	if a, b := len(c.nodes["a"].Owned()), len(c.nodes["b"].Owned()); a != 2 || b != 2 {
		t.Errorf("linked instances held: got a %d, b %d; want 2 each", a, b)
	}
}

func TestDeadNodesInstancesAreTakenOver(t *testing.T) {
	c := newCluster(t, 9, "a", "b", "c")
	c.tick("a", "b", "c")
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b", "c")
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b", "c")
	c.wantConnected(map[string]int{"a": 3, "b": 3, "c": 3})

	before, err := c.leases.Leases(t.Context(), c.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	handedOver := c.seen.takeovers // the first spread moved leases between nodes
	epochs := map[ports.InstanceID]int64{}
	for _, l := range before {
		epochs[l.Instance] = l.Epoch
	}
	// c dies: it stops ticking and its connections vanish with it.
	dead := c.nodes["c"]
	for _, id := range dead.Owned() {
		c.net.mu.Lock()
		delete(c.net.conns, id)
		c.net.mu.Unlock()
	}
	delete(c.nodes, "c")
	// Before its leases expire nobody takes them.
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	c.wantConnected(map[string]int{"a": 3, "b": 3})
	// After the TTL both survivors claim their new share, ceil(9/2) = 5.
	for range 3 {
		c.clock.Advance(5 * time.Second)
		c.tick("a", "b")
	}
	got := c.net.connected()
	if got["a"]+got["b"] != 9 || got["a"] > 5 || got["b"] > 5 {
		t.Errorf("connections after the takeover: got %v, want 9 spread at most 5 per node", got)
	}
	leases, err := c.leases.Leases(t.Context(), c.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	takeovers := 0
	for _, l := range leases {
		if l.Epoch == epochs[l.Instance]+1 {
			takeovers++
		}
	}
	if takeovers != 3 {
		t.Errorf("leases taken over (epoch one up): got %d, want the dead node's 3", takeovers)
	}
	if c.seen.news != 9 || c.seen.takeovers-handedOver != 3 {
		t.Errorf("claims observed: got %d new and %d takeovers since the death, want 9 and 3", c.seen.news, c.seen.takeovers-handedOver)
	}
}

func TestStaleOwnerLetsGoOfALostLease(t *testing.T) {
	c := newCluster(t, 1, "a", "b")
	c.tick("a")
	a := c.nodes["a"]
	// a stalls past its TTL (a long GC pause, a frozen VM) and b takes
	// the lease over; a must close its connection when it wakes up.
	c.clock.Advance(ttl)
	if a.Owns("inst-00") {
		t.Errorf("owns inst-00 past the TTL: got true, want false")
	}
	c.net.mu.Lock()
	delete(c.net.conns, "inst-00") // what b's connect replaces
	c.net.mu.Unlock()
	c.tick("b")
	c.tick("a")
	c.wantConnected(map[string]int{"b": 1})
}

func TestDatabaseOutageLetsGoBeforeExpiry(t *testing.T) {
	c := newCluster(t, 2, "a")
	c.tick("a")
	down := errors.New("database down")
	c.leases.Fail = func(string) error { return down }
	a := c.nodes["a"]
	c.clock.Advance(5 * time.Second)
	if err := a.Tick(t.Context()); !errors.Is(err, down) {
		t.Fatalf("tick with the database down: got %v, want %v", err, down)
	}
	c.wantConnected(map[string]int{"a": 2})
	// The next tick would come after the leases expire: let go now.
	c.clock.Advance(5 * time.Second)
	if err := a.Tick(t.Context()); !errors.Is(err, down) {
		t.Fatalf("tick with the database down: got %v, want %v", err, down)
	}
	c.wantConnected(map[string]int{})
	// Once it is back, the node claims them again.
	c.leases.Fail = nil
	c.clock.Advance(5 * time.Second)
	c.tick("a")
	c.wantConnected(map[string]int{"a": 2})
}

func TestUnwantedInstancesAreReleased(t *testing.T) {
	c := newCluster(t, 2, "a", "b")
	c.tick("a")
	// Disconnected through another node: a closes it and lets go.
	c.dir.set("inst-01", ports.StatusDisconnected)
	c.clock.Advance(5 * time.Second)
	c.tick("a")
	c.wantConnected(map[string]int{"a": 1})
	if _, err := c.leases.Claim(t.Context(), "inst-01", "b", c.clock.Now(), c.clock.Now().Add(ttl)); err != nil {
		t.Errorf("claim of the released lease: got %v, want nil", err)
	}
}

func TestShutdownHandsOverAtOnce(t *testing.T) {
	c := newCluster(t, 4, "a", "b")
	c.tick("a", "b")
	c.clock.Advance(5 * time.Second)
	c.tick("a", "b")
	c.wantConnected(map[string]int{"a": 2, "b": 2})
	if err := c.nodes["b"].Shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	delete(c.nodes, "b")
	c.wantConnected(map[string]int{"a": 2})
	// No waiting for the TTL: a takes them at its next tick.
	c.clock.Advance(time.Second)
	c.tick("a")
	c.wantConnected(map[string]int{"a": 4})
}

// TestAcquiredIsKeptUntilItsConnectShows: a connect through the API
// claims the lease, then sets the instance connecting; a tick in between
// sees it not wanted yet and must keep it.
func TestAcquiredIsKeptUntilItsConnectShows(t *testing.T) {
	c := newCluster(t, 1, "a")
	c.dir.set("inst-00", ports.StatusCreated)
	a := c.nodes["a"]
	if err := a.Acquire(t.Context(), "inst-00"); err != nil {
		t.Fatal(err)
	}
	c.tick("a")
	if !a.Owns("inst-00") {
		t.Fatalf("owns a just acquired instance after a tick: got false, want true")
	}
	c.dir.set("inst-00", ports.StatusQR)
	c.clock.Advance(5 * time.Second)
	c.tick("a")
	c.clock.Advance(ttl)
	c.tick("a")
	if !a.Owns("inst-00") {
		t.Errorf("owns the pairing instance: got false, want true")
	}
	// A connect that never started (refused) is let go after the TTL.
	c.dir.set("inst-01", ports.StatusCreated)
	if err := a.Acquire(t.Context(), "inst-01"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c.clock.Advance(5 * time.Second)
		c.tick("a")
		if !a.Owns("inst-01") {
			t.Fatalf("owns an acquired instance within the TTL: got false, want true")
		}
	}
	c.clock.Advance(5 * time.Second)
	c.tick("a")
	if a.Owns("inst-01") {
		t.Errorf("owns an acquired instance never connected: got true, want false")
	}
}

func TestAcquire(t *testing.T) {
	c := newCluster(t, 1, "a", "b")
	if err := c.nodes["a"].Acquire(t.Context(), "inst-00"); err != nil {
		t.Fatalf("acquire a free instance: %v", err)
	}
	if !c.nodes["a"].Owns("inst-00") {
		t.Errorf("owns after acquire: got false, want true")
	}
	if err := c.nodes["b"].Acquire(t.Context(), "inst-00"); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("acquire of a held instance: got %v, want conflict", err)
	}
}
