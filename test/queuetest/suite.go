// Package queuetest is the conformance suite of the job queue port
// (ports.Queue, ports.Runner). Its runners, in the
// _test files, run it against the embedded queue on SQLite and PostgreSQL
// and against asynq on Redis.
package queuetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// Adapter is one queue under test. Runners made by NewRunner share Queue's
// storage; they should poll often (100 ms) and drain briefly (under a
// second) so that the suite stays fast.
type Adapter struct {
	Queue     Queue
	NewRunner func() ports.Runner
}

// Queue is what the suite needs of a queue: the port, and a look inside
// to see jobs wait, retry and die. No module needs the look inside, so it
// is the suite's, not a port's.
type Queue interface {
	ports.Queue
	// Depth returns, per job type, how many jobs are pending (ready,
	// delayed or waiting for a retry). Types with none may be absent.
	Depth(ctx context.Context) (map[string]int, error)
	// JobState returns the state of a job; ENotFound if there is no such
	// job (it never existed, or it completed).
	JobState(ctx context.Context, jobType, id string) (ports.JobState, error)
}

// settle is how long the suite waits to see that nothing more happens
// (no second run, no retry after a dead job). It covers asynq's
// whole-second scheduling and a poll.
const settle = 1500 * time.Millisecond

// waitFor bounds every wait for something that should happen. It is a
// failure deadline, not a performance assertion.
const waitFor = 20 * time.Second

// Run runs the suite; open returns a fresh, empty queue for each subtest.
func Run(t *testing.T, open func(t *testing.T) Adapter) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a Adapter)
	}{
		{"EnqueueValidates", testEnqueueValidates},
		{"HandledOnceWithPayload", testHandledOnce},
		{"UniqueIDs", testUniqueIDs},
		{"Delayed", testDelayed},
		{"RetriesFollowBackoff", testRetriesFollowBackoff},
		{"PlainErrorIsRetried", testPlainErrorRetried},
		{"NoRetryCodes", testNoRetryCodes},
		{"RateLimitedKeepsAttempts", testRateLimited},
		{"AbandonedJobRunsAgain", testAbandoned},
		{"ConcurrencyPerType", testConcurrency},
		{"Depth", testDepth},
		{"RunReturnsAfterCancel", testRunReturns},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// delivery is one recorded handler call.
type delivery struct {
	ports.Delivery
	at time.Time
}

// recorder is a handler that records its calls and answers with reply.
type recorder struct {
	mu      sync.Mutex
	calls   []delivery
	changed chan struct{}
	reply   func(d ports.Delivery, n int) error // n counts calls from 1
}

func newRecorder(reply func(d ports.Delivery, n int) error) *recorder {
	if reply == nil {
		reply = func(ports.Delivery, int) error { return nil }
	}
	return &recorder{changed: make(chan struct{}, 1), reply: reply}
}

func (r *recorder) handle(_ context.Context, d ports.Delivery) error {
	r.mu.Lock()
	r.calls = append(r.calls, delivery{Delivery: d, at: time.Now()})
	n := len(r.calls)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return r.reply(d, n)
}

func (r *recorder) snapshot() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// wait returns the calls once there are at least n of them.
func (r *recorder) wait(t *testing.T, n int) []delivery {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		if calls := r.snapshot(); len(calls) >= n {
			return calls
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("handler calls: got %d after %v, want %d", len(r.snapshot()), waitFor, n)
		}
	}
}

// settled waits a while and checks that the calls are still n.
func (r *recorder) settled(t *testing.T, n int) {
	t.Helper()
	time.Sleep(settle)
	if got := len(r.snapshot()); got != n {
		t.Fatalf("handler calls after settling: got %d, want %d", got, n)
	}
}

// start runs r until the test ends (or stop is called) and returns stop,
// which cancels Run and waits for it to return.
func start(t *testing.T, r ports.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: got %v, want nil after cancel", err)
				}
			case <-time.After(waitFor):
				t.Errorf("Run did not return within %v of its ctx ending", waitFor)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// serve starts a runner with one handler.
func serve(t *testing.T, a Adapter, typ string, h ports.Handler, opt ports.HandlerOptions) (stop func()) {
	t.Helper()
	r := a.NewRunner()
	r.Handle(typ, h, opt)
	return start(t, r)
}

func enqueue(t *testing.T, q ports.Queue, j ports.Job) {
	t.Helper()
	if err := q.Enqueue(context.Background(), j); err != nil {
		t.Fatalf("Enqueue(%s): got %v, want nil", j.ID, err)
	}
}

// waitState polls until the job is in state want; "" waits for it to be
// gone (completed).
func waitState(t *testing.T, q Queue, typ, id string, want ports.JobState) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	var (
		got ports.JobState
		err error
	)
	for time.Now().Before(deadline) {
		got, err = q.JobState(context.Background(), typ, id)
		if want == "" && ports.IsCode(err, ports.ENotFound) || want != "" && err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	if want == "" {
		want = "gone (ENotFound)"
	}
	t.Fatalf("state of job %s: got %q, %v; want %s", id, got, err, want)
}

func wantCode(t *testing.T, what string, err error, code ports.ErrorCode) {
	t.Helper()
	if !ports.IsCode(err, code) {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func testEnqueueValidates(t *testing.T, a Adapter) {
	ctx := context.Background()
	for _, j := range []ports.Job{
		{Type: "t"},
		{ID: "j1"},
		{ID: "j1", Type: "t", MaxAttempts: -1},
		{ID: string(make([]byte, ports.MaxJobIDLen+1)), Type: "t"},
	} {
		wantCode(t, "Enqueue of an invalid job", a.Queue.Enqueue(ctx, j), ports.EInvalid)
	}
}

func testHandledOnce(t *testing.T, a Adapter) {
	rec := newRecorder(nil)
	serve(t, a, "greet", rec.handle, ports.HandlerOptions{})
	job := ports.Job{
		ID: "j1", Type: "greet", Payload: []byte{0, 1, 2, 0xff},
		MaxAttempts: 3, Trace: map[string]string{"traceparent": "00-abc-def-01"},
	}
	enqueue(t, a.Queue, job)
	got := rec.wait(t, 1)[0]
	if got.ID != job.ID || got.Type != job.Type || string(got.Payload) != string(job.Payload) ||
		got.MaxAttempts != 3 || got.Trace["traceparent"] != "00-abc-def-01" || got.Attempt != 1 {
		t.Fatalf("delivery: got %+v, want job %+v at attempt 1", got.Delivery, job)
	}
	waitState(t, a.Queue, "greet", "j1", "")
	rec.settled(t, 1)
}

func testUniqueIDs(t *testing.T, a Adapter) {
	rec := newRecorder(nil)
	serve(t, a, "uniq", rec.handle, ports.HandlerOptions{})
	job := ports.Job{ID: "same", Type: "uniq", RunAt: time.Now().Add(time.Second)}
	enqueue(t, a.Queue, job)
	wantCode(t, "second Enqueue of a pending id", a.Queue.Enqueue(context.Background(), job), ports.EConflict)
	rec.wait(t, 1)
	waitState(t, a.Queue, "uniq", "same", "")
	rec.settled(t, 1)
	// A completed job's id may be used again.
	job.RunAt = time.Time{}
	enqueue(t, a.Queue, job)
	rec.wait(t, 2)
}

func testDelayed(t *testing.T, a Adapter) {
	rec := newRecorder(nil)
	serve(t, a, "later", rec.handle, ports.HandlerOptions{})
	runAt := time.Now().Add(1200 * time.Millisecond)
	enqueue(t, a.Queue, ports.Job{ID: "d1", Type: "later", RunAt: runAt})
	if st, err := a.Queue.JobState(context.Background(), "later", "d1"); err != nil || st != ports.JobPending {
		t.Fatalf("state of a delayed job: got %q, %v; want pending", st, err)
	}
	got := rec.wait(t, 1)[0]
	if got.at.Before(runAt) {
		t.Fatalf("delayed job ran at %v, want not before %v", got.at, runAt)
	}
}

func testRetriesFollowBackoff(t *testing.T, a Adapter) {
	rec := newRecorder(func(ports.Delivery, int) error {
		return ports.Errorf(ports.EUnavailable, "the phone is offline")
	})
	backoff := func(attempt int) time.Duration { return time.Duration(attempt) * 300 * time.Millisecond }
	serve(t, a, "flaky", rec.handle, ports.HandlerOptions{Backoff: backoff})
	enqueue(t, a.Queue, ports.Job{ID: "r1", Type: "flaky", MaxAttempts: 3})
	calls := rec.wait(t, 3)
	for i, c := range calls {
		if c.Attempt != i+1 {
			t.Fatalf("call %d: got attempt %d, want %d", i+1, c.Attempt, i+1)
		}
		if i > 0 {
			if gap, min := c.at.Sub(calls[i-1].at), backoff(i); gap < min {
				t.Fatalf("gap before attempt %d: got %v, want at least the backoff %v", i+1, gap, min)
			}
		}
	}
	waitState(t, a.Queue, "flaky", "r1", ports.JobDead)
	rec.settled(t, 3)
	// A dead job keeps its id.
	wantCode(t, "Enqueue of a dead job's id", a.Queue.Enqueue(context.Background(), ports.Job{ID: "r1", Type: "flaky"}), ports.EConflict)
}

func testPlainErrorRetried(t *testing.T, a Adapter) {
	rec := newRecorder(func(_ ports.Delivery, n int) error {
		if n == 1 {
			return errors.New("a bug") // EInternal: retried
		}
		return nil
	})
	serve(t, a, "buggy", rec.handle, ports.HandlerOptions{Backoff: func(int) time.Duration { return 100 * time.Millisecond }})
	enqueue(t, a.Queue, ports.Job{ID: "p1", Type: "buggy", MaxAttempts: 2})
	calls := rec.wait(t, 2)
	if calls[1].Attempt != 2 {
		t.Fatalf("attempt after a plain error: got %d, want 2", calls[1].Attempt)
	}
	waitState(t, a.Queue, "buggy", "p1", "")
	rec.settled(t, 2)
}

func testNoRetryCodes(t *testing.T, a Adapter) {
	codes := []ports.ErrorCode{ports.EInvalid, ports.ENotFound, ports.EConflict, ports.EForbidden}
	rec := newRecorder(func(d ports.Delivery, _ int) error {
		return ports.Errorf(ports.ErrorCode(d.Payload), "refused")
	})
	serve(t, a, "doomed", rec.handle, ports.HandlerOptions{
		Concurrency: len(codes),
		Backoff:     func(int) time.Duration { return 100 * time.Millisecond },
	})
	for _, code := range codes {
		enqueue(t, a.Queue, ports.Job{ID: string(code), Type: "doomed", Payload: []byte(code), MaxAttempts: 5})
	}
	rec.wait(t, len(codes))
	for _, code := range codes {
		waitState(t, a.Queue, "doomed", string(code), ports.JobDead)
	}
	rec.settled(t, len(codes))
}

func testRateLimited(t *testing.T, a Adapter) {
	rec := newRecorder(func(_ ports.Delivery, n int) error {
		if n <= 2 {
			return &ports.Error{Code: ports.ERateLimited, Message: "slow down", RetryAfter: 200 * time.Millisecond}
		}
		return nil
	})
	serve(t, a, "paced", rec.handle, ports.HandlerOptions{Backoff: func(int) time.Duration { return time.Hour }})
	// One attempt only: rate-limited runs must not use it up, and the
	// hour-long backoff shows that RetryAfter is used instead.
	enqueue(t, a.Queue, ports.Job{ID: "rl", Type: "paced", MaxAttempts: 1})
	calls := rec.wait(t, 3)
	for i, c := range calls {
		if c.Attempt != 1 {
			t.Fatalf("call %d: got attempt %d, want 1 (rate limits use no attempt)", i+1, c.Attempt)
		}
		if i > 0 && c.at.Sub(calls[i-1].at) < 200*time.Millisecond {
			t.Fatalf("gap before call %d: got %v, want at least RetryAfter 200ms", i+1, c.at.Sub(calls[i-1].at))
		}
	}
	waitState(t, a.Queue, "paced", "rl", "")
	rec.settled(t, 3)
}

// testAbandoned stops a runner whose handler never finishes, as a crash
// or a deploy would, and checks that another runner completes the job
// exactly once, at the same attempt, while the abandoned run is ignored.
func testAbandoned(t *testing.T, a Adapter) {
	started, cancelled, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer close(release)
	stuck := func(ctx context.Context, _ ports.Delivery) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		<-release // still running after the runner gave up on it
		return nil
	}
	stopA := serve(t, a, "stuck", stuck, ports.HandlerOptions{})
	enqueue(t, a.Queue, ports.Job{ID: "s1", Type: "stuck", MaxAttempts: 2})
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatalf("first runner: no call within %v", waitFor)
	}
	stopA() // returns only after the drain timeout abandoned the run
	select {
	case <-cancelled:
	case <-time.After(waitFor):
		t.Fatalf("abandoned handler's ctx: not cancelled within %v", waitFor)
	}

	rec := newRecorder(nil)
	serve(t, a, "stuck", rec.handle, ports.HandlerOptions{})
	if got := rec.wait(t, 1)[0]; got.Attempt != 1 {
		t.Fatalf("attempt after an abandoned run: got %d, want 1", got.Attempt)
	}
	waitState(t, a.Queue, "stuck", "s1", "")
	rec.settled(t, 1)
}

func testConcurrency(t *testing.T, a Adapter) {
	const limit, jobs = 2, 6
	var (
		mu            sync.Mutex
		inFlight, top int
	)
	rec := newRecorder(func(ports.Delivery, int) error {
		mu.Lock()
		inFlight++
		top = max(top, inFlight)
		mu.Unlock()
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	})
	// Enqueue first, so that the runner finds all jobs due at once.
	for i := range jobs {
		enqueue(t, a.Queue, ports.Job{ID: "c" + string(rune('a'+i)), Type: "busy"})
	}
	serve(t, a, "busy", rec.handle, ports.HandlerOptions{Concurrency: limit})
	rec.wait(t, jobs)
	mu.Lock()
	defer mu.Unlock()
	if top != limit {
		t.Fatalf("most runs at once: got %d, want %d (the concurrency)", top, limit)
	}
}

func testDepth(t *testing.T, a Adapter) {
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	enqueue(t, a.Queue, ports.Job{ID: "x1", Type: "idle", RunAt: later})
	enqueue(t, a.Queue, ports.Job{ID: "x2", Type: "idle"})
	enqueue(t, a.Queue, ports.Job{ID: "y1", Type: "other"})
	depth, err := a.Queue.Depth(ctx)
	if err != nil {
		t.Fatalf("Depth: got %v, want nil", err)
	}
	if depth["idle"] != 2 || depth["other"] != 1 {
		t.Fatalf("Depth: got %v, want idle:2 other:1", depth)
	}
	if _, err := a.Queue.JobState(ctx, "idle", "nope"); !ports.IsCode(err, ports.ENotFound) {
		t.Fatalf("JobState of an unknown job: got %v, want %s", err, ports.ENotFound)
	}
}

func testRunReturns(t *testing.T, a Adapter) {
	wantCode(t, "Run without handlers", a.NewRunner().Run(context.Background()), ports.EInvalid)
	rec := newRecorder(nil)
	stop := serve(t, a, "quiet", rec.handle, ports.HandlerOptions{})
	time.Sleep(200 * time.Millisecond)
	stop() // fails the test if Run does not return
	// Jobs enqueued after the stop wait for the next runner.
	enqueue(t, a.Queue, ports.Job{ID: "q1", Type: "quiet"})
	time.Sleep(settle)
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("calls after Run returned: got %d, want 0", n)
	}
	serve(t, a, "quiet", rec.handle, ports.HandlerOptions{})
	rec.wait(t, 1)
}
