package coretest

import (
	"crypto/rand"
	"encoding/json"
	"sync"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// EncodeEventData is the event log's data encoder for core tests: plain
// encoding/json of the ports types (Go field names), which DataAs reads
// back. The real wire form is the HTTP adapter's.
func EncodeEventData(data any) (json.RawMessage, error) { return json.Marshal(data) }

// DataAs decodes an event's data written by EncodeEventData.
func DataAs[T any](e ports.Event) (T, error) {
	var v T
	err := json.Unmarshal(e.Data, &v)
	return v, err
}

// NewEventLog returns an event log that stamps with clock, encodes with
// EncodeEventData and wakes the dispatcher through q (nil: never). Its
// event ids are random, so that the logs of several modules on one store
// never mint the same one, and the tests' IDs keep their sequence.
func NewEventLog(clock ports.Clock, q ports.Queue) *events.Log {
	return events.New(events.Deps{IDs: randomIDs{}, Clock: clock, Encode: EncodeEventData, Queue: q})
}

type randomIDs struct{}

func (randomIDs) NewID() string { return rand.Text() }

// EventTap reads the events committed to a Store's log, for tests to check
// what a step announced.
type EventTap struct {
	s     *Store
	mu    sync.Mutex
	taken int // events already returned by Take
}

// NewEventTap returns a tap on s's log.
func NewEventTap(s *Store) *EventTap { return &EventTap{s: s} }

// Events returns every committed event, oldest first.
func (t *EventTap) Events() []ports.Event { return t.s.Events() }

// Take returns the events committed since the last Take, so that a test
// checks each step's events on their own.
func (t *EventTap) Take() []ports.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := t.s.Events()
	out := all[min(t.taken, len(all)):]
	t.taken = len(all)
	return out
}
