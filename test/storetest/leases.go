package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// RunLeases runs the conformance suite of ports.LeaseStore. open is called
// once per test and must return an empty store of its own.
func RunLeases(t *testing.T, open func(t *testing.T) ports.LeaseStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, l ports.LeaseStore)
	}{
		{"Heartbeats", testHeartbeats},
		{"ClaimFreeHeldAndOwn", testClaim},
		{"ClaimExpired", testClaimExpired},
		{"Renew", testRenew},
		{"Release", testRelease},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentTakeover", testConcurrentTakeover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// leaseBase is a whole-second UTC instant: lease times go through the
// database and must compare equal when read back.
var leaseBase = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

const leaseTTL = 15 * time.Second

func testHeartbeats(t *testing.T, l ports.LeaseStore) {
	ctx := t.Context()
	for _, hb := range []struct {
		node ports.NodeID
		at   time.Time
	}{{"node-b", leaseBase}, {"node-a", leaseBase.Add(-time.Minute)}, {"node-c", leaseBase.Add(-time.Hour)}} {
		if err := l.Heartbeat(ctx, hb.node, hb.at); err != nil {
			t.Fatalf("heartbeat %s: %v", hb.node, err)
		}
	}
	since := leaseBase.Add(-30 * time.Second)
	live, err := l.LiveNodes(ctx, since)
	if err != nil {
		t.Fatalf("live nodes: %v", err)
	}
	if diff := cmp.Diff([]ports.NodeID{"node-b"}, live); diff != "" {
		t.Errorf("live nodes (-want +got):\n%s", diff)
	}
	// A later heartbeat brings node-a back.
	if err := l.Heartbeat(ctx, "node-a", leaseBase); err != nil {
		t.Fatalf("heartbeat again: %v", err)
	}
	live, err = l.LiveNodes(ctx, since)
	if err != nil {
		t.Fatalf("live nodes: %v", err)
	}
	if diff := cmp.Diff([]ports.NodeID{"node-a", "node-b"}, live); diff != "" {
		t.Errorf("live nodes after a second heartbeat (-want +got):\n%s", diff)
	}
	// A node that leaves records the zero time: no longer live.
	if err := l.Heartbeat(ctx, "node-a", time.Time{}); err != nil {
		t.Fatalf("leave: %v", err)
	}
	// A day later, a heartbeat forgets the nodes silent since: even the
	// widest look-back finds only the nodes heard from within a day.
	later := leaseBase.Add(ports.NodeRetention + time.Minute)
	if err := l.Heartbeat(ctx, "node-d", later); err != nil {
		t.Fatalf("heartbeat a day later: %v", err)
	}
	live, err = l.LiveNodes(ctx, time.Time{}.Add(time.Second))
	if err != nil {
		t.Fatalf("live nodes: %v", err)
	}
	if diff := cmp.Diff([]ports.NodeID{"node-d"}, live); diff != "" {
		t.Errorf("nodes remembered a day later (-want +got):\n%s", diff)
	}
}

func testClaim(t *testing.T, l ports.LeaseStore) {
	ctx := t.Context()
	id := ports.InstanceID(newID())
	got, err := l.Claim(ctx, id, "node-a", leaseBase, leaseBase.Add(leaseTTL))
	if err != nil {
		t.Fatalf("claim a free lease: %v", err)
	}
	want := ports.Lease{Instance: id, Node: "node-a", ExpiresAt: leaseBase.Add(leaseTTL), Epoch: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claimed lease (-want +got):\n%s", diff)
	}
	if _, err := l.Claim(ctx, id, "node-b", leaseBase.Add(time.Second), leaseBase.Add(time.Second+leaseTTL)); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("claim of a held lease: got %v, want conflict", err)
	}
	// Its holder claiming again renews it: same epoch, later expiry.
	got, err = l.Claim(ctx, id, "node-a", leaseBase.Add(5*time.Second), leaseBase.Add(5*time.Second+leaseTTL))
	if err != nil {
		t.Fatalf("claim by the holder: %v", err)
	}
	want.ExpiresAt = leaseBase.Add(5*time.Second + leaseTTL)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lease claimed again by its holder (-want +got):\n%s", diff)
	}
	leases, err := l.Leases(ctx, leaseBase.Add(6*time.Second))
	if err != nil {
		t.Fatalf("leases: %v", err)
	}
	if diff := cmp.Diff([]ports.Lease{want}, leases); diff != "" {
		t.Errorf("leases (-want +got):\n%s", diff)
	}
}

func testClaimExpired(t *testing.T, l ports.LeaseStore) {
	ctx := t.Context()
	id := ports.InstanceID(newID())
	if _, err := l.Claim(ctx, id, "node-a", leaseBase, leaseBase.Add(leaseTTL)); err != nil {
		t.Fatalf("claim: %v", err)
	}
	expired := leaseBase.Add(leaseTTL)
	leases, err := l.Leases(ctx, expired)
	if err != nil {
		t.Fatalf("leases: %v", err)
	}
	if len(leases) != 0 {
		t.Errorf("leases once expired: got %v, want none", leases)
	}
	got, err := l.Claim(ctx, id, "node-b", expired, expired.Add(leaseTTL))
	if err != nil {
		t.Fatalf("claim an expired lease: %v", err)
	}
	want := ports.Lease{Instance: id, Node: "node-b", ExpiresAt: expired.Add(leaseTTL), Epoch: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lease taken over (-want +got):\n%s", diff)
	}
	// The old holder has lost it: renewing keeps nothing, claiming conflicts.
	kept, err := l.Renew(ctx, "node-a", []ports.InstanceID{id}, expired, expired.Add(leaseTTL))
	if err != nil {
		t.Fatalf("renew by the old holder: %v", err)
	}
	if len(kept) != 0 {
		t.Errorf("renew by the old holder: got %v, want nothing kept", kept)
	}
	if _, err := l.Claim(ctx, id, "node-a", expired, expired.Add(leaseTTL)); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("claim by the old holder: got %v, want conflict", err)
	}
}

func testRenew(t *testing.T, l ports.LeaseStore) {
	ctx := t.Context()
	x, y, z, free := ports.InstanceID(newID()), ports.InstanceID(newID()), ports.InstanceID(newID()), ports.InstanceID(newID())
	for _, c := range []struct {
		id   ports.InstanceID
		node ports.NodeID
		ttl  time.Duration
	}{{x, "node-a", leaseTTL}, {y, "node-a", 2 * time.Second}, {z, "node-b", leaseTTL}} {
		if _, err := l.Claim(ctx, c.id, c.node, leaseBase, leaseBase.Add(c.ttl)); err != nil {
			t.Fatalf("claim %s: %v", c.id, err)
		}
	}
	// At +5s, y has expired (nobody took it, but it is lost all the same),
	// z is another node's and free was never claimed.
	now := leaseBase.Add(5 * time.Second)
	kept, err := l.Renew(ctx, "node-a", []ports.InstanceID{x, y, z, free}, now, now.Add(leaseTTL))
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if diff := cmp.Diff([]ports.InstanceID{x}, kept); diff != "" {
		t.Errorf("renewed (-want +got):\n%s", diff)
	}
	// x now outlives its first expiry.
	leases, err := l.Leases(ctx, leaseBase.Add(leaseTTL))
	if err != nil {
		t.Fatalf("leases: %v", err)
	}
	if len(leases) != 1 || leases[0].Instance != x || !leases[0].ExpiresAt.Equal(now.Add(leaseTTL)) {
		t.Errorf("leases after renew: got %v, want only %s until %v", leases, x, now.Add(leaseTTL))
	}
	kept, err = l.Renew(ctx, "node-a", nil, now, now.Add(leaseTTL))
	if err != nil || len(kept) != 0 {
		t.Errorf("renew nothing: got %v, %v; want nothing, nil", kept, err)
	}
}

func testRelease(t *testing.T, l ports.LeaseStore) {
	ctx := t.Context()
	id := ports.InstanceID(newID())
	if _, err := l.Claim(ctx, id, "node-a", leaseBase, leaseBase.Add(leaseTTL)); err != nil {
		t.Fatalf("claim: %v", err)
	}
	now := leaseBase.Add(time.Second)
	// Another node's release changes nothing.
	if err := l.Release(ctx, id, "node-b", now); err != nil {
		t.Fatalf("release by a non-holder: %v", err)
	}
	if _, err := l.Claim(ctx, id, "node-b", now, now.Add(leaseTTL)); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("claim after a non-holder's release: got %v, want conflict", err)
	}
	if err := l.Release(ctx, id, "node-a", now); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := l.Release(ctx, id, "node-a", now); err != nil {
		t.Errorf("release twice: got %v, want nil", err)
	}
	if err := l.Release(ctx, ports.InstanceID(newID()), "node-a", now); err != nil {
		t.Errorf("release of a lease never claimed: got %v, want nil", err)
	}
	got, err := l.Claim(ctx, id, "node-b", now, now.Add(leaseTTL))
	if err != nil {
		t.Fatalf("claim a released lease at once: %v", err)
	}
	if got.Node != "node-b" || got.Epoch != 2 {
		t.Errorf("claimed after release: got node %s epoch %d, want node-b epoch 2", got.Node, got.Epoch)
	}
}

// leaseClaimRace has n nodes claim id at the same moment and returns how many
// won and the winner.
func leaseClaimRace(t *testing.T, l ports.LeaseStore, id ports.InstanceID, n int, now time.Time) (int, ports.NodeID) {
	t.Helper()
	var mu sync.Mutex
	var wins int
	var winner ports.NodeID
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		node := ports.NodeID("racer-" + string(rune('a'+i)))
		wg.Go(func() {
			<-start
			got, err := l.Claim(t.Context(), id, node, now, now.Add(leaseTTL))
			switch {
			case err == nil:
				mu.Lock()
				wins++
				winner = got.Node
				mu.Unlock()
			case !ports.IsCode(err, ports.EConflict):
				t.Errorf("claim by %s: got %v, want nil or conflict", node, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return wins, winner
}

func testConcurrentClaims(t *testing.T, l ports.LeaseStore) {
	id := ports.InstanceID(newID())
	wins, winner := leaseClaimRace(t, l, id, 8, leaseBase)
	if wins != 1 {
		t.Fatalf("winners of a free lease: got %d, want 1", wins)
	}
	leases, err := l.Leases(t.Context(), leaseBase)
	if err != nil {
		t.Fatalf("leases: %v", err)
	}
	if len(leases) != 1 || leases[0].Node != winner {
		t.Errorf("leases: got %v, want one held by %s", leases, winner)
	}
}

func testConcurrentTakeover(t *testing.T, l ports.LeaseStore) {
	id := ports.InstanceID(newID())
	if _, err := l.Claim(t.Context(), id, "node-dead", leaseBase, leaseBase.Add(leaseTTL)); err != nil {
		t.Fatalf("claim: %v", err)
	}
	now := leaseBase.Add(2 * leaseTTL)
	wins, winner := leaseClaimRace(t, l, id, 8, now)
	if wins != 1 {
		t.Fatalf("winners of an expired lease: got %d, want 1", wins)
	}
	leases, err := l.Leases(t.Context(), now)
	if err != nil {
		t.Fatalf("leases: %v", err)
	}
	if len(leases) != 1 || leases[0].Node != winner || leases[0].Epoch != 2 {
		t.Errorf("leases: got %v, want one held by %s at epoch 2", leases, winner)
	}
}
