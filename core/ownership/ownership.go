// Package ownership decides which node holds each instance's WhatsApp
// connection when several wagate nodes share one database. A node holds an
// instance only through a lease (ports.LeaseStore) that it renews every few
// seconds; it connects what it claims, lets go at once of what it lost, and
// never keeps a connection past the moment its lease could have expired,
// so that two nodes never hold one instance (WhatsApp would kick one of
// them as "replaced").
//
// Every tick the node heartbeats, renews its leases, releases instances
// nobody wants connected any more, sheds instances above its fair share
// (so that a node that joins gets work) and claims free or expired leases
// of wanted instances up to that share: ceil(wanted / live nodes). A dead
// node's leases expire after the TTL and its instances are claimed by the
// others at their next tick; a node that stops gracefully (Shutdown)
// closes its connections and releases its leases, so they are claimed at
// once.
package ownership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Instances connects and disconnects instances on this node. The sessions
// module implements it, and needs this service to claim a lease before a
// connect: SetInstances gives it to the service once both exist.
type Instances interface {
	// Adopt connects an instance whose lease this node just claimed, the
	// way a restart reconnects it: from its stored device. ENotFound if it
	// was deleted.
	Adopt(ctx context.Context, id ports.InstanceID) error
	// Drop closes the instance's connection on this node without changing
	// its stored status, so that the node that claims it next connects it
	// again. Not an error when it has no connection here.
	Drop(ctx context.Context, id ports.InstanceID) error
}

// Deps are the ports the service uses.
type Deps struct {
	Leases    ports.LeaseStore
	Directory ports.InstanceDirectory
	Clock     ports.Clock
	// Observer counts claims and losses for metrics; nil: none.
	Observer Observer
	Log      *slog.Logger
}

// Observer is told what happens to this node's leases, for metrics.
type Observer interface {
	// Claimed: this node claimed a lease; takeover when another node held
	// it before (it died, or handed it over at shutdown).
	Claimed(takeover bool)
	// Lost: a lease this node held expired or went to another node
	// before this node renewed it.
	Lost()
}

// Config tunes the service. Zero values take the defaults in brackets.
type Config struct {
	// Node is this node's name; required.
	Node ports.NodeID
	// TTL is how long a lease lasts without renewal [15s]: a dead node's
	// instances wait about this long before another node claims them.
	TTL time.Duration
	// Every is the time between ticks [TTL/3].
	Every time.Duration
	// AdoptParallelism bounds the connects in flight [16]: each waits for
	// a network handshake.
	AdoptParallelism int
}

// DefaultTTL is the lease lifetime when Config.TTL is zero.
const DefaultTTL = 15 * time.Second

// Service runs this node's side of the leases.
type Service struct {
	d         Deps
	c         Config
	instances Instances // see SetInstances

	// mu guards owned: for each instance this node holds, the moment its
	// lease ends by this node's clock (the start of the last successful
	// claim or renewal plus the TTL).
	mu    sync.Mutex
	owned map[ports.InstanceID]time.Time
	// acquired holds when Acquire claimed an instance not yet seen wanted:
	// its connect sets the status just after, and a tick listing the
	// instances in between must not take it for one nobody wants.
	acquired map[ports.InstanceID]time.Time

	sem    chan struct{}
	adopts sync.WaitGroup
}

// New returns a Service holding nothing.
func New(d Deps, c Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.Every <= 0 {
		c.Every = c.TTL / 3
	}
	if c.AdoptParallelism <= 0 {
		c.AdoptParallelism = 16
	}
	return &Service{
		d: d, c: c, owned: map[ports.InstanceID]time.Time{}, acquired: map[ports.InstanceID]time.Time{},
		sem: make(chan struct{}, c.AdoptParallelism),
	}
}

// SetInstances gives the service what connects and drops instances. Call
// it once, before Run, Tick or Shutdown: it is not a Deps field because
// the sessions module that implements it is built with this service's
// Acquire and Owns, so one of the two has to come second.
func (s *Service) SetInstances(in Instances) { s.instances = in }

// Node returns this node's name.
func (s *Service) Node() ports.NodeID { return s.c.Node }

// Owns reports whether this node holds the instance's lease now. Sends
// and WhatsApp events of instances it does not own are not its to handle.
func (s *Service) Owns(id ports.InstanceID) bool {
	now := s.d.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.owned[id]
	return ok && now.Before(until)
}

// Owned returns the instances this node holds, in id order.
func (s *Service) Owned() []ports.InstanceID {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]ports.InstanceID, 0, len(s.owned))
	for id := range s.owned {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Acquire claims the instance's lease for this node before a connect that
// a request asked this node for (linking a new device: its QR codes live
// in this process). EConflict when another node holds it.
func (s *Service) Acquire(ctx context.Context, id ports.InstanceID) error {
	now := s.d.Clock.Now()
	if _, err := s.d.Leases.Claim(ctx, id, s.c.Node, now, now.Add(s.c.TTL)); err != nil {
		return fmt.Errorf("claim %s: %w", id, err)
	}
	s.hold(id, now.Add(s.c.TTL))
	s.mu.Lock()
	s.acquired[id] = now
	s.mu.Unlock()
	return nil
}

// Run ticks until ctx ends. It does not release anything: call Shutdown.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.c.Every)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.d.Log.Error("instance leases", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick does one round: heartbeat, renew, let go, claim. Connects of the
// instances it claims run in the background (Wait waits for them). An
// error stops the round; what was done before it stands.
func (s *Service) Tick(ctx context.Context) error {
	now := s.d.Clock.Now()
	if err := s.d.Leases.Heartbeat(ctx, s.c.Node, now); err != nil {
		s.dropExpiring(ctx, now)
		return fmt.Errorf("heartbeat: %w", err)
	}
	if err := s.renew(ctx, now); err != nil {
		s.dropExpiring(ctx, now)
		return err
	}
	active, err := s.wantedInstances(ctx)
	if err != nil {
		return err
	}
	ids := make([]ports.InstanceID, len(active))
	for i, inst := range active {
		ids[i] = inst.ID
	}
	s.releaseUnwanted(ctx, ids, now)
	live, err := s.d.Leases.LiveNodes(ctx, now.Add(-s.c.TTL))
	if err != nil {
		return fmt.Errorf("live nodes: %w", err)
	}
	share := fairShare(len(active), len(live))
	s.shed(ctx, active, share, now)
	return s.claim(ctx, ids, share, now)
}

// fairShare is each node's part of n instances: ceil(n / nodes), counting
// at least this node.
func fairShare(n, nodes int) int {
	nodes = max(nodes, 1)
	return (n + nodes - 1) / nodes
}

// renew extends the leases this node holds and drops those it lost.
func (s *Service) renew(ctx context.Context, now time.Time) error {
	ids := s.Owned()
	if len(ids) == 0 {
		return nil
	}
	kept, err := s.d.Leases.Renew(ctx, s.c.Node, ids, now, now.Add(s.c.TTL))
	if err != nil {
		return fmt.Errorf("renew leases: %w", err)
	}
	renewed := make(map[ports.InstanceID]bool, len(kept))
	for _, id := range kept {
		s.hold(id, now.Add(s.c.TTL))
		renewed[id] = true
	}
	for _, id := range ids {
		if !renewed[id] {
			s.d.Log.Warn("instance lease lost: closing its connection here", "instance", string(id))
			s.drop(ctx, id)
			if s.d.Observer != nil {
				s.d.Observer.Lost()
			}
		}
	}
	return nil
}

// dropExpiring lets go, when the database cannot be reached, of every
// lease that will have expired before the next tick could renew it:
// another node may claim it then, and must find this one gone.
func (s *Service) dropExpiring(ctx context.Context, now time.Time) {
	deadline := now.Add(s.c.Every)
	s.mu.Lock()
	var expiring []ports.InstanceID
	for id, until := range s.owned {
		if !deadline.Before(until) {
			expiring = append(expiring, id)
		}
	}
	s.mu.Unlock()
	for _, id := range expiring {
		s.d.Log.Warn("instance lease not renewed in time: closing its connection here", "instance", string(id))
		s.drop(ctx, id)
	}
}

// wantedInstances lists the instances that should be connected somewhere.
func (s *Service) wantedInstances(ctx context.Context) ([]ports.Instance, error) {
	var all []ports.Instance
	req := ports.PageRequest{Limit: ports.MaxPageLimit}
	for {
		page, err := s.d.Directory.ListInstancesByStatus(ctx, ports.ConnectionWanted(), req)
		if err != nil {
			return nil, fmt.Errorf("list wanted instances: %w", err)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		req.After = page.Next
	}
}

// releaseUnwanted lets go of held instances that were disconnected, logged
// out or deleted (maybe through another node): their connection here, if
// any, closes, and the lease ends.
func (s *Service) releaseUnwanted(ctx context.Context, active []ports.InstanceID, now time.Time) {
	want := make(map[ports.InstanceID]bool, len(active))
	for _, id := range active {
		want[id] = true
	}
	for _, id := range s.Owned() {
		s.mu.Lock()
		at, fresh := s.acquired[id]
		if want[id] || !now.Before(at.Add(s.c.TTL)) {
			delete(s.acquired, id) // its connect has shown, or never will
			fresh = false
		}
		s.mu.Unlock()
		if !want[id] && !fresh {
			s.release(ctx, id, now)
		}
	}
}

// shed hands instances back when this node holds more than one above its
// share (a node joined): the others claim them at their next tick. The
// slack of one keeps an uneven division from moving instances back and
// forth. Only linked devices move: a pairing in progress (no device yet)
// lives in this process, and handing it over would end it.
func (s *Service) shed(ctx context.Context, active []ports.Instance, share int, now time.Time) {
	ids := s.Owned()
	if len(ids) <= share+1 {
		return
	}
	n := len(ids) - share
	linked := make(map[ports.InstanceID]bool, len(active))
	for _, inst := range active {
		linked[inst.ID] = inst.JID != ""
	}
	movable := slices.DeleteFunc(ids, func(id ports.InstanceID) bool { return !linked[id] })
	extra := movable[max(len(movable)-n, 0):]
	if len(extra) == 0 {
		return
	}
	s.d.Log.Info("handing instances over to other nodes", "count", len(extra), "share", share)
	for _, id := range extra {
		s.release(ctx, id, now)
	}
}

// claim takes free or expired leases of wanted instances, in random order
// so that nodes claiming at once collide less, until this node holds its
// share; each one claimed is connected in the background.
func (s *Service) claim(ctx context.Context, active []ports.InstanceID, share int, now time.Time) error {
	held := len(s.Owned())
	if held >= share {
		return nil
	}
	leases, err := s.d.Leases.Leases(ctx, now)
	if err != nil {
		return fmt.Errorf("list leases: %w", err)
	}
	taken := make(map[ports.InstanceID]bool, len(leases))
	for _, l := range leases {
		taken[l.Instance] = true
	}
	free := slices.DeleteFunc(slices.Clone(active), func(id ports.InstanceID) bool { return taken[id] })
	rand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	for _, id := range free {
		if held >= share || ctx.Err() != nil {
			break
		}
		l, err := s.d.Leases.Claim(ctx, id, s.c.Node, now, now.Add(s.c.TTL))
		if ports.IsCode(err, ports.EConflict) {
			continue // another node was quicker
		}
		if err != nil {
			return fmt.Errorf("claim %s: %w", id, err)
		}
		s.hold(id, now.Add(s.c.TTL))
		held++
		s.d.Log.Info("instance claimed", "instance", string(id), "epoch", l.Epoch, "takeover", l.Epoch > 1)
		if s.d.Observer != nil {
			s.d.Observer.Claimed(l.Epoch > 1)
		}
		s.adopt(ctx, id)
	}
	return nil
}

// adopt connects a claimed instance in the background. A failed connect
// gives the lease back for another node to try.
func (s *Service) adopt(ctx context.Context, id ports.InstanceID) {
	s.adopts.Go(func() {
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-s.sem }()
		if !s.Owns(id) {
			return // lost or shed while waiting
		}
		err := s.instances.Adopt(ctx, id)
		if err == nil && !s.Owns(id) {
			// Lost or shed while connecting: the drop may have come
			// before the connection, so close it again.
			s.dropConnection(ctx, id)
			return
		}
		if err == nil || ctx.Err() != nil {
			return
		}
		if ports.IsCode(err, ports.ENotFound) {
			s.d.Log.Debug("claimed instance was deleted", "instance", string(id))
		} else {
			s.d.Log.Warn("connect a claimed instance", "instance", string(id), "err", err)
		}
		s.release(ctx, id, s.d.Clock.Now())
	})
}

// Wait waits for the connects started by ticks to finish.
func (s *Service) Wait() { s.adopts.Wait() }

// hold records that this node holds id until the given moment.
func (s *Service) hold(id ports.InstanceID, until time.Time) {
	s.mu.Lock()
	s.owned[id] = until
	s.mu.Unlock()
}

// drop closes the instance's connection here and forgets it, first
// forgetting it so that none of its sends or events is handled meanwhile.
func (s *Service) drop(ctx context.Context, id ports.InstanceID) {
	s.mu.Lock()
	delete(s.owned, id)
	delete(s.acquired, id)
	s.mu.Unlock()
	s.dropConnection(ctx, id)
}

func (s *Service) dropConnection(ctx context.Context, id ports.InstanceID) {
	if err := s.instances.Drop(ctx, id); err != nil {
		s.d.Log.Error("close the connection of an instance let go", "instance", string(id), "err", err)
	}
}

// release closes the instance's connection here, then ends its lease: in
// that order, so that the next holder never overlaps with this one.
func (s *Service) release(ctx context.Context, id ports.InstanceID, now time.Time) {
	s.drop(ctx, id)
	if err := s.d.Leases.Release(ctx, id, s.c.Node, now); err != nil {
		// It expires by itself after the TTL.
		s.d.Log.Warn("release instance lease", "instance", string(id), "err", err)
	}
}

// Shutdown hands every instance over for a graceful stop: the connects in
// flight finish, every connection here closes, then the leases end, so
// that the other nodes claim them at their next tick instead of after the
// TTL. Errors are joined; the leases not released expire by themselves.
func (s *Service) Shutdown(ctx context.Context) error {
	s.adopts.Wait()
	ids := s.Owned()
	for _, id := range ids {
		s.drop(ctx, id)
	}
	now := s.d.Clock.Now()
	var errs []error
	// Gone from the live nodes, the others count their share without it.
	if err := s.d.Leases.Heartbeat(ctx, s.c.Node, time.Time{}); err != nil {
		errs = append(errs, fmt.Errorf("leave: %w", err))
	}
	for _, id := range ids {
		if err := s.d.Leases.Release(ctx, id, s.c.Node, now); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", id, err))
		}
	}
	if len(ids) > 0 {
		s.d.Log.Info("instances handed over", "count", len(ids))
	}
	return errors.Join(errs...)
}
