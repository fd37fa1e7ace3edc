package localqueue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

// These tests cover what the conformance suite cannot reach through the
// port: a runner that dies without a word (its claim stays in the table)
// and a handler that outlives its lease.

func TestLeaseSQLite(t *testing.T) { leaseTests(t, func(t *testing.T) string { return "" }) }
func TestLeasePostgres(t *testing.T) {
	leaseTests(t, func(t *testing.T) string { return testdb.Postgres(t) })
}

func leaseTests(t *testing.T, url func(t *testing.T) string) {
	for name, fn := range map[string]func(t *testing.T, q *Queue){
		"CrashedRunIsRecovered":      testCrashRecovered,
		"CrashOnLastAttemptIsDead":   testCrashOnLastAttempt,
		"LeaseIsRenewedWhileRunning": testLeaseRenewed,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, openQueue(t, url(t)))
		})
	}
}

func openQueue(t *testing.T, url string) *Queue {
	t.Helper()
	ctx := t.Context()
	dir := ""
	if url == "" {
		dir = testdb.SQLiteDir(t)
	}
	st, err := entstore.Open(ctx, entstore.Options{URL: url, DataDir: dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	q, err := New(st.DB(), st.Dialect(), Options{
		PollInterval: 50 * time.Millisecond,
		Lease:        time.Second,
		DrainTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	return q
}

// run starts r and stops it when the test ends.
func run(t *testing.T, r *Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
	})
}

// crashedClaim enqueues a job and claims it the way a runner would just
// before its process died.
func crashedClaim(t *testing.T, q *Queue, j ports.Job) *claimed {
	t.Helper()
	if err := q.Enqueue(t.Context(), j); err != nil {
		t.Fatalf("Enqueue: got %v, want nil", err)
	}
	c, err := q.claim(t.Context(), j.Type)
	if err != nil || c == nil {
		t.Fatalf("claim: got %v, %v; want the job", c, err)
	}
	if st, err := q.JobState(t.Context(), j.Type, j.ID); err != nil || st != ports.JobRunning {
		t.Fatalf("state after claim: got %q, %v; want running", st, err)
	}
	return c
}

func waitState(t *testing.T, q *Queue, typ, id string, want ports.JobState) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := q.JobState(t.Context(), typ, id)
		if want == "" && ports.IsCode(err, ports.ENotFound) || err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state of %s: got %q, %v; want %q", id, got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testCrashRecovered(t *testing.T, q *Queue) {
	old := crashedClaim(t, q, ports.Job{ID: "c1", Type: "work", MaxAttempts: 3})
	calls := make(chan ports.Delivery, 4)
	proceed := make(chan struct{})
	r := q.NewRunner()
	r.Handle("work", func(_ context.Context, d ports.Delivery) error {
		calls <- d
		<-proceed
		return nil
	}, ports.HandlerOptions{})
	run(t, r)
	var d ports.Delivery
	select {
	case d = <-calls:
	case <-time.After(20 * time.Second):
		t.Fatal("the crashed run's job was not claimed again")
	}
	if d.Attempt != 2 {
		t.Fatalf("attempt after a crash: got %d, want 2 (the crashed run counts)", d.Attempt)
	}
	// The crashed run, coming back, can neither complete nor reschedule.
	if err := q.complete(t.Context(), old); err != nil {
		t.Fatalf("complete with a stale claim: %v", err)
	}
	if err := q.reschedule(t.Context(), old, time.Now(), true, "stale"); err != nil {
		t.Fatalf("reschedule with a stale claim: %v", err)
	}
	if st, err := q.JobState(t.Context(), "work", "c1"); err != nil || st != ports.JobRunning {
		t.Fatalf("state after stale writes: got %q, %v; want running", st, err)
	}
	close(proceed)
	waitState(t, q, "work", "c1", "")
	select {
	case d := <-calls:
		t.Fatalf("extra call: got attempt %d, want none", d.Attempt)
	case <-time.After(time.Second):
	}
}

func testCrashOnLastAttempt(t *testing.T, q *Queue) {
	crashedClaim(t, q, ports.Job{ID: "c2", Type: "work", MaxAttempts: 1})
	var calls atomic.Int32
	r := q.NewRunner()
	r.Handle("work", func(context.Context, ports.Delivery) error {
		calls.Add(1)
		return nil
	}, ports.HandlerOptions{})
	run(t, r)
	waitState(t, q, "work", "c2", ports.JobDead)
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler calls for a job whose last attempt crashed: got %d, want 0", n)
	}
}

func testLeaseRenewed(t *testing.T, q *Queue) {
	var calls atomic.Int32
	slow := func(context.Context, ports.Delivery) error {
		calls.Add(1)
		time.Sleep(3 * q.opts.Lease) // outlives the lease unless renewed
		return nil
	}
	// Two runners, so that an expired lease would be taken by the other.
	for range 2 {
		r := q.NewRunner()
		r.Handle("slow", slow, ports.HandlerOptions{})
		run(t, r)
	}
	if err := q.Enqueue(t.Context(), ports.Job{ID: "s1", Type: "slow"}); err != nil {
		t.Fatalf("Enqueue: got %v, want nil", err)
	}
	waitState(t, q, "slow", "s1", "")
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler calls: got %d, want 1 (the lease is renewed while it runs)", n)
	}
}
