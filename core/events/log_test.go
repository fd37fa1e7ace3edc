package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// gatedQueue holds every enqueue until the gate opens, as a slow queue
// would at shutdown.
type gatedQueue struct {
	coretest.Queue
	gate chan struct{}
}

func (q *gatedQueue) Enqueue(ctx context.Context, j ports.Job) error {
	<-q.gate
	return q.Queue.Enqueue(ctx, j)
}

// TestDrainWaitsForWakes: Drain returns only once the wake-ups under way
// reached the queue, and gives up when its context ends.
func TestDrainWaitsForWakes(t *testing.T) {
	q := &gatedQueue{gate: make(chan struct{})}
	l := events.New(events.Deps{IDs: &coretest.IDs{}, Clock: coretest.NewClock(), Queue: q})
	l.Wake(t.Context(), "sub-a")
	l.Wake(t.Context(), "sub-b")

	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := l.Drain(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with the queue held = %v, want the deadline", err)
	}
	close(q.gate)
	if err := l.Drain(t.Context()); err != nil {
		t.Fatalf("Drain = %v", err)
	}
	if n := q.Len(); n != 2 {
		t.Fatalf("jobs enqueued by the drained wakes = %d, want 2", n)
	}
}
