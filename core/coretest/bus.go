package coretest

import (
	"context"
	"sync"

	"github.com/wagate/wagate/ports"
)

var _ ports.EventBus = (*Bus)(nil)

// Bus is a ports.EventBus that keeps what is published, for tests to read
// back. It has no subscribers: realtime fan-out is the bus adapters' part.
// The zero Bus is ready to use.
type Bus struct {
	mu     sync.Mutex
	events []ports.Event
}

// Publish records e.
func (b *Bus) Publish(_ context.Context, e ports.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, e)
	return nil
}

// Subscribe is EUnsupported: nothing in core subscribes.
func (b *Bus) Subscribe(context.Context, ports.EventFilter) (<-chan ports.Event, error) {
	return nil, ports.Errorf(ports.EUnsupported, "the recording bus has no subscribers")
}

// Events returns the events published so far, oldest first.
func (b *Bus) Events() []ports.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ports.Event(nil), b.events...)
}

// Take returns the events published so far and starts a new list, so
// that a test checks each step's events on their own.
func (b *Bus) Take() []ports.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = nil
	return out
}
