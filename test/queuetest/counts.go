package queuetest

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// RunJobCounts runs the conformance test of ports.JobCounter, the
// optional capability the metrics use; open returns a fresh, empty queue,
// which must implement it.
func RunJobCounts(t *testing.T, open func(t *testing.T) Adapter) {
	t.Parallel()
	a := open(t)
	counter, ok := a.Queue.(ports.JobCounter)
	if !ok {
		t.Fatalf("%T does not implement ports.JobCounter", a.Queue)
	}
	ctx := context.Background()
	got, err := counter.CountJobs(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("CountJobs of an empty queue: got %v, %v, want none", got, err)
	}

	// Waiting: due now, or later. Nothing handles these types.
	enqueue(t, a.Queue, ports.Job{ID: "i1", Type: "idle", RunAt: time.Now().Add(time.Hour)})
	enqueue(t, a.Queue, ports.Job{ID: "i2", Type: "idle"})
	enqueue(t, a.Queue, ports.Job{ID: "o1", Type: "other"})
	// Running until the test ends.
	release, started := make(chan struct{}), make(chan struct{}, 1)
	serve(t, a, "slow", func(ctx context.Context, _ ports.Delivery) error {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}, ports.HandlerOptions{})
	t.Cleanup(func() { close(release) }) // before the runner's stop, which waits for it
	enqueue(t, a.Queue, ports.Job{ID: "s1", Type: "slow"})
	// Dead at once, and waiting an hour for a retry.
	serve(t, a, "doomed", func(context.Context, ports.Delivery) error {
		return ports.Errorf(ports.EInvalid, "bad payload")
	}, ports.HandlerOptions{})
	enqueue(t, a.Queue, ports.Job{ID: "d1", Type: "doomed"})
	serve(t, a, "flaky", func(context.Context, ports.Delivery) error {
		return ports.Errorf(ports.EUnavailable, "down")
	}, ports.HandlerOptions{Backoff: func(int) time.Duration { return time.Hour }})
	enqueue(t, a.Queue, ports.Job{ID: "f1", Type: "flaky", MaxAttempts: 5})
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatal("the slow job never started")
	}

	want := map[string]ports.JobCounts{
		"idle":   {Ready: 1, Delayed: 1},
		"other":  {Ready: 1},
		"slow":   {Running: 1},
		"doomed": {Dead: 1},
		"flaky":  {Delayed: 1},
	}
	deadline := time.Now().Add(waitFor)
	for {
		got, err = counter.CountJobs(ctx)
		if err == nil && maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CountJobs: got %v, %v, want %v", got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
