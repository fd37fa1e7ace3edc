package coretest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Leases is an in-memory ports.LeaseStore with the real stores' rules. Fail,
// when set, runs at the start of every method with its name; a non-nil
// error is returned instead of running the method (a database outage).
type Leases struct {
	mu     sync.Mutex
	Fail   func(method string) error
	beats  map[ports.NodeID]time.Time
	leases map[ports.InstanceID]ports.Lease
}

var _ ports.LeaseStore = (*Leases)(nil)

// NewLeases returns an empty store.
func NewLeases() *Leases {
	return &Leases{beats: map[ports.NodeID]time.Time{}, leases: map[ports.InstanceID]ports.Lease{}}
}

func (l *Leases) enter(method string) error {
	l.mu.Lock()
	if l.Fail != nil {
		if err := l.Fail(method); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	return nil
}

// Heartbeat implements ports.LeaseStore.
func (l *Leases) Heartbeat(_ context.Context, n ports.NodeID, now time.Time) error {
	if err := l.enter("Heartbeat"); err != nil {
		return err
	}
	defer l.mu.Unlock()
	l.beats[n] = now
	if !now.IsZero() {
		for other, at := range l.beats {
			if at.Before(now.Add(-ports.NodeRetention)) {
				delete(l.beats, other)
			}
		}
	}
	return nil
}

// LiveNodes implements ports.LeaseStore.
func (l *Leases) LiveNodes(_ context.Context, since time.Time) ([]ports.NodeID, error) {
	if err := l.enter("LiveNodes"); err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	var out []ports.NodeID
	for n, at := range l.beats {
		if at.After(since) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Claim implements ports.LeaseStore.
func (l *Leases) Claim(_ context.Context, id ports.InstanceID, n ports.NodeID, now, expires time.Time) (ports.Lease, error) {
	if err := l.enter("Claim"); err != nil {
		return ports.Lease{}, err
	}
	defer l.mu.Unlock()
	cur, ok := l.leases[id]
	switch {
	case !ok:
		cur = ports.Lease{Instance: id, Node: n, Epoch: 1}
	case cur.Node == n:
	case !cur.ExpiresAt.After(now):
		cur.Node, cur.Epoch = n, cur.Epoch+1
	default:
		return ports.Lease{}, ports.Errorf(ports.EConflict, "instance %s is held by another node", id)
	}
	cur.ExpiresAt = expires
	l.leases[id] = cur
	return cur, nil
}

// Renew implements ports.LeaseStore.
func (l *Leases) Renew(_ context.Context, n ports.NodeID, ids []ports.InstanceID, now, expires time.Time) ([]ports.InstanceID, error) {
	if err := l.enter("Renew"); err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	var kept []ports.InstanceID
	for _, id := range ids {
		cur, ok := l.leases[id]
		if ok && cur.Node == n && cur.ExpiresAt.After(now) {
			cur.ExpiresAt = expires
			l.leases[id] = cur
			kept = append(kept, id)
		}
	}
	return kept, nil
}

// Release implements ports.LeaseStore.
func (l *Leases) Release(_ context.Context, id ports.InstanceID, n ports.NodeID, now time.Time) error {
	if err := l.enter("Release"); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if cur, ok := l.leases[id]; ok && cur.Node == n && cur.ExpiresAt.After(now) {
		cur.ExpiresAt = now
		l.leases[id] = cur
	}
	return nil
}

// Leases implements ports.LeaseStore.
func (l *Leases) Leases(_ context.Context, now time.Time) ([]ports.Lease, error) {
	if err := l.enter("Leases"); err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	var out []ports.Lease
	for _, cur := range l.leases {
		if cur.ExpiresAt.After(now) {
			out = append(out, cur)
		}
	}
	slices.SortFunc(out, func(a, b ports.Lease) int { return strings.Compare(string(a.Instance), string(b.Instance)) })
	return out, nil
}
