// Package localbus is the in-process ports.EventBus: it fans events out to
// the realtime subscribers of this node. Publish never waits: each
// subscriber has a bounded buffer, and one that lets it fill up is dropped
// (its channel closed) rather than slowing down everyone else, so that a
// stalled WebSocket client cannot hold back WhatsApp's event handling.
package localbus

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/wagate/wagate/ports"
)

// DefaultBuffer is how many events a subscriber may fall behind by default.
const DefaultBuffer = 256

// Options configure New.
type Options struct {
	// Buffer is each subscriber's queue length [DefaultBuffer].
	Buffer int
	// Log hears about dropped subscribers; nil discards.
	Log *slog.Logger
}

// Bus is the in-process event bus. It is safe for concurrent use.
type Bus struct {
	buffer int
	log    *slog.Logger

	mu     sync.RWMutex
	subs   map[ports.SubscriptionID]map[*subscriber]struct{}
	closed bool
}

var _ ports.EventBus = (*Bus)(nil)

// New returns an empty bus.
func New(opt Options) *Bus {
	if opt.Buffer <= 0 {
		opt.Buffer = DefaultBuffer
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Bus{buffer: opt.Buffer, log: opt.Log, subs: map[ports.SubscriptionID]map[*subscriber]struct{}{}}
}

// subscriber is one Subscribe call. Its mutex makes a send and the close of
// ch exclusive: a send never happens on a closed channel.
type subscriber struct {
	filter ports.EventFilter
	types  map[ports.EventType]bool // nil: every type
	stop   func() bool              // detaches the ctx watcher

	mu     sync.Mutex
	ch     chan ports.Event
	closed bool
}

// Subscribe returns the matching events until ctx ends, the subscriber
// falls behind by more than the buffer, or the bus is closed; then the
// channel is closed. EInvalid without a SubscriptionID; EUnavailable once
// the bus is closed.
func (b *Bus) Subscribe(ctx context.Context, f ports.EventFilter) (<-chan ports.Event, error) {
	if f.SubscriptionID == "" {
		return nil, ports.Errorf(ports.EInvalid, "subscribe: a subscription id is required")
	}
	s := &subscriber{filter: f, ch: make(chan ports.Event, b.buffer), stop: func() bool { return false }}
	if len(f.Types) > 0 {
		s.types = make(map[ports.EventType]bool, len(f.Types))
		for _, t := range f.Types {
			s.types[t] = true
		}
	}
	s.filter.Types = slices.Clone(f.Types)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ports.Errorf(ports.EUnavailable, "subscribe: the event bus is closed")
	}
	set := b.subs[f.SubscriptionID]
	if set == nil {
		set = map[*subscriber]struct{}{}
		b.subs[f.SubscriptionID] = set
	}
	set[s] = struct{}{}
	b.mu.Unlock()
	// An ended ctx runs the watcher at once, which removes s again.
	stop := context.AfterFunc(ctx, func() { b.remove(s) })
	s.mu.Lock()
	if s.closed {
		stop() // dropped or shut down meanwhile: nothing left to watch for
	} else {
		s.stop = stop
	}
	s.mu.Unlock()
	return s.ch, nil
}

// Publish hands e to every matching subscriber of e's subscription without
// waiting. EInvalid without a SubscriptionID: such an event could never
// reach anyone, so publishing it is a bug.
func (b *Bus) Publish(_ context.Context, e ports.Event) error {
	if e.SubscriptionID == "" {
		return ports.Errorf(ports.EInvalid, "publish %s: the event has no subscription id", e.Type)
	}
	var behind []*subscriber
	b.mu.RLock()
	for s := range b.subs[e.SubscriptionID] {
		if s.matches(e) && !s.offer(e) {
			behind = append(behind, s)
		}
	}
	b.mu.RUnlock()
	for _, s := range behind {
		b.log.Warn("event subscriber dropped: it fell behind",
			"subscription", string(s.filter.SubscriptionID), "buffer", b.buffer)
		b.remove(s)
	}
	return nil
}

// Close closes every subscriber's channel, for shutdown: clients see
// their stream end. Later Subscribe calls fail.
func (b *Bus) Close() {
	b.mu.Lock()
	b.closed = true
	all := b.subs
	b.subs = map[ports.SubscriptionID]map[*subscriber]struct{}{}
	b.mu.Unlock()
	for _, set := range all {
		for s := range set {
			s.close()
		}
	}
}

// Subscribers returns how many subscribers are attached, for metrics.
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for _, set := range b.subs {
		n += len(set)
	}
	return n
}

// remove detaches s and closes its channel; removing twice is harmless.
func (b *Bus) remove(s *subscriber) {
	b.mu.Lock()
	if set := b.subs[s.filter.SubscriptionID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(b.subs, s.filter.SubscriptionID)
		}
	}
	b.mu.Unlock()
	s.close()
}

// matches applies the filter beyond the subscription, which the bus's
// index already matched.
func (s *subscriber) matches(e ports.Event) bool {
	if s.filter.InstanceID != "" && s.filter.InstanceID != e.InstanceID {
		return false
	}
	return s.types == nil || s.types[e.Type]
}

// offer queues e without waiting; false when the buffer is full.
func (s *subscriber) offer(e ports.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true // going away anyway; not a new overflow
	}
	select {
	case s.ch <- e:
		return true
	default:
		return false
	}
}

// close closes the channel once and stops watching the ctx.
func (s *subscriber) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.stop()
	close(s.ch)
}
