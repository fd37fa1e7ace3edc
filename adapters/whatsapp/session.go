package whatsapp

import (
	"context"
	"sync"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/ports"
)

// session is one instance's connection state. Its queue carries
// whatsmeow's events and the adapter's own timers to run, the only
// goroutine that maps them to ports events; API calls change the state
// under mu and queue the statuses they cause, so that OnEvent sees every
// event of the instance in order.
type session struct {
	m  *Manager
	id ports.InstanceID
	q  *queue

	mu  sync.Mutex
	sub ports.SubscriptionID // the instance's tenant, from Connect
	cli *wa.Client           // the latest client; nil before the first Connect
	// epoch numbers the connect attempts: events and timers of an earlier
	// one (a client replaced or given up) are dropped.
	epoch    uint64
	active   bool // a connection is wanted: connecting, qr or connected
	loggedIn bool // events.Connected seen and no drop since
	degraded bool // keepalives failing
	watchdog *time.Timer
	pair     pairing
	// dev is the adapter's own copy of what it knows of the device:
	// whatsmeow writes Store.ID and Store.PushName on its goroutines (when
	// it pairs, logs out or syncs settings), so reading them from ours is
	// a data race. It comes from the store before a connect and from
	// whatsmeow's events after.
	dev linkedDevice
}

// linkedDevice is the device a session connects with; a zero jid: not
// linked (yet, or any more).
type linkedDevice struct {
	jid      types.JID
	pushName string
}

// pairing is the QR (or pair code) state of a connect of an unlinked
// device.
type pairing struct {
	codes   []string
	attempt int // the code shown, 1-based; 0: not awaiting a scan
	byCode  bool
	seq     uint64 // numbers the timers, to drop a stopped one
	timer   *time.Timer
}

// Queue items besides whatsmeow's events.
type (
	waEvent struct {
		epoch uint64
		evt   any
		// done, if set, gets whether the event was handled once it was:
		// whatsmeow waits for it before it acks (waHandler).
		done chan bool
	}
	emit struct{ ev ports.WAEvent }
	// pairTimeout: the QR code (or pair code) on screen expired.
	pairTimeout struct{ epoch, seq uint64 }
	// watchdogFired: keepalives failed for Options.Watchdog.
	watchdogFired struct{ epoch uint64 }
	// reconnectFailed: a forced reconnect could not even start.
	reconnectFailed struct {
		epoch uint64
		err   error
	}
)

func newSession(m *Manager, id ports.InstanceID) *session {
	return &session{m: m, id: id, q: newQueue()}
}

// subscription returns the tenant to stamp on the instance's events. It is
// read once per batch: Connect sets it before queueing anything.
func (s *session) subscription() ports.SubscriptionID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sub
}

// connectedClient returns the client if it is logged in. whatsmeow's
// IsLoggedIn stays true after a Disconnect we asked for, so the session's
// own state decides, with the socket's.
func (s *session) connectedClient() *wa.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active || !s.loggedIn || !s.cli.IsConnected() {
		return nil
	}
	return s.cli
}

// run delivers the instance's events until the queue is closed.
func (s *session) run(ctx context.Context) {
	for {
		items, ok := s.q.take(ctx.Done())
		if !ok {
			return
		}
		sub := s.subscription()
		for _, it := range items {
			handled := true
			for _, ev := range s.handle(ctx, it) {
				ev.Subscription = sub
				if err := s.m.opt.OnEvent(ev); err != nil {
					handled = false
				}
			}
			if w, ok := it.(waEvent); ok && w.done != nil {
				w.done <- handled
			}
		}
	}
}

// handle maps one queue item to the events it causes.
func (s *session) handle(ctx context.Context, it any) []ports.WAEvent {
	switch it := it.(type) {
	case emit:
		return []ports.WAEvent{it.ev}
	case waEvent:
		return s.handleWA(ctx, it)
	case pairTimeout:
		return s.onPairTimeout(it)
	case watchdogFired:
		return s.onWatchdog(it)
	case reconnectFailed:
		return s.onReconnectFailed(it)
	}
	return nil
}

// status builds a status event.
func (s *session) status(st ports.InstanceStatus, reason string) ports.WAEvent {
	return ports.WAEvent{
		Instance: s.id,
		Kind:     ports.WAStatus,
		At:       s.m.now(),
		Status:   &ports.WAStatusChange{Status: st, Reason: reason},
	}
}

// connectedStatus describes the linked device. Caller holds mu.
func (s *session) connectedStatus(degraded bool) ports.WAEvent {
	ev := s.status(ports.StatusConnected, "")
	ev.Status.Degraded = degraded
	if jid := s.dev.jid; !jid.IsEmpty() {
		ev.Status.JID = jid.String()
		ev.Status.PhoneNumber = jid.User
	}
	ev.Status.PushName = s.dev.pushName
	return ev
}

// deviceJID returns the linked device's JID, empty when not linked.
func (s *session) deviceJID() types.JID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dev.jid
}

// giveUp ends the current connect attempt: later events of its client are
// dropped and the client is closed. Caller holds mu.
func (s *session) giveUp() {
	s.epoch++
	s.active = false
	s.loggedIn = false
	s.degraded = false
	s.stopWatchdog()
	s.stopPairing()
	if cli := s.cli; cli != nil {
		// Disconnect waits for the socket lock; never from a whatsmeow
		// handler, and not worth blocking the instance's events for.
		s.m.goTracked(cli.Disconnect)
	}
}

// shutdown closes the client for Close, without events.
func (s *session) shutdown() {
	s.mu.Lock()
	s.epoch++
	s.active = false
	s.stopWatchdog()
	s.stopPairing()
	cli := s.cli
	s.mu.Unlock()
	if cli != nil {
		cli.Disconnect()
		cli.RemoveEventHandlers()
	}
	s.q.close()
}

// after queues item after d; a closed queue drops it.
func (s *session) after(d time.Duration, item any) *time.Timer {
	return time.AfterFunc(d, func() { s.q.push(item) })
}

func (s *session) stopWatchdog() {
	if s.watchdog != nil {
		s.watchdog.Stop()
		s.watchdog = nil
	}
}

func (s *session) stopPairing() {
	if s.pair.timer != nil {
		s.pair.timer.Stop()
	}
	s.pair = pairing{seq: s.pair.seq + 1}
}
