package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// JobDispatch is the job type that wakes the dispatcher for one
// subscription. Its payload is the subscription id.
const JobDispatch = "events.dispatch"

// Deps are what the log needs.
type Deps struct {
	IDs   ports.IDGen
	Clock ports.Clock
	// Encode gives the JSON of an event's data (the envelope's "data"
	// member); it is the wire codec's, chosen by the composition root, so
	// that core carries no JSON tags. An error for data without a wire form.
	Encode func(data any) (json.RawMessage, error)
	// Queue receives the dispatch jobs; nil: no wake-ups (the periodic
	// relay still dispatches), for tests that read the log itself.
	Queue ports.Queue
	Log   *slog.Logger
}

// Log appends events and wakes their dispatcher. It is safe for
// concurrent use.
type Log struct {
	d       Deps
	mu      sync.Mutex
	pending map[ports.SubscriptionID]bool // a wake-up is being enqueued
	wakes   sync.WaitGroup                // the enqueues under way
}

// New returns the log.
func New(d Deps) *Log {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Log{d: d, pending: map[ports.SubscriptionID]bool{}}
}

// Append encodes data, stamps the event with its id and time and appends
// it through st, which must be the stores of the change's transaction.
// The caller wakes the dispatcher (Wake) after the commit. The event's
// Position may be 0: the store can hand it out at commit.
func (l *Log) Append(ctx context.Context, st ports.Stores, t ports.EventType, sub ports.SubscriptionID, inst ports.InstanceID, data any) (ports.Event, error) {
	raw, err := l.d.Encode(data)
	if err != nil {
		return ports.Event{}, fmt.Errorf("encode %s event: %w", t, err)
	}
	e := ports.Event{
		ID: "evt_" + l.d.IDs.NewID(), Type: t, SubscriptionID: sub, InstanceID: inst,
		At: l.d.Clock.Now(), Data: raw,
	}
	if e.Position, err = st.Events.AppendEvent(ctx, e); err != nil {
		return ports.Event{}, fmt.Errorf("append %s event: %w", t, err)
	}
	return e, nil
}

// wakeTimeout bounds one wake-up's enqueue.
const wakeTimeout = 10 * time.Second

// Wake asks for a dispatch of sub's log and returns at once: the enqueue
// runs on its own goroutine, so that the caller (a WhatsApp event
// goroutine) never waits for the queue. The job carries ctx's values (the
// trace, which the queue adapter propagates) but not its end. Wakes that
// arrive while one is being enqueued are folded into it (the job, running
// later, dispatches all that committed before it runs). A lost wake-up
// only delays the dispatch to the periodic relay.
func (l *Log) Wake(ctx context.Context, sub ports.SubscriptionID) {
	if l.d.Queue == nil {
		return
	}
	l.mu.Lock()
	if l.pending[sub] {
		l.mu.Unlock()
		return
	}
	l.pending[sub] = true
	l.mu.Unlock()
	l.wakes.Go(func() { l.enqueue(context.WithoutCancel(ctx), sub) })
}

// Drain waits, at most until ctx ends, for the wake-ups under way to be
// enqueued: at shutdown, after the last change and before the queue
// closes, so that a clean stop leaves nothing to the relay.
func (l *Log) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		l.wakes.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Log) enqueue(ctx context.Context, sub ports.SubscriptionID) {
	// Cleared before the enqueue: a commit after this point wakes a job of
	// its own rather than count on one that may already be running.
	l.mu.Lock()
	delete(l.pending, sub)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, wakeTimeout)
	defer cancel()
	j := ports.Job{ID: "dispatch:" + l.d.IDs.NewID(), Type: JobDispatch, Payload: []byte(sub), MaxAttempts: 3}
	if err := l.d.Queue.Enqueue(ctx, j); err != nil {
		l.d.Log.Warn("wake the event dispatcher; the relay will", "subscription", string(sub), "err", err)
	}
}
