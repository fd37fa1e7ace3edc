package localqueue

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/ports"
)

// Runner runs the handlers registered with it; see ports.Runner.
type Runner struct {
	q        *Queue
	handlers map[string]handler
	running  atomic.Bool
}

var _ ports.Runner = (*Runner)(nil)

type handler struct {
	fn          ports.Handler
	concurrency int
	backoff     func(attempt int) time.Duration
}

// finishTimeout bounds the write that records a run's outcome, which is
// made even when Run's ctx has ended.
const finishTimeout = 10 * time.Second

// pruneInterval is how often a runner deletes expired dead jobs.
const pruneInterval = time.Hour

// Handle registers h for jobType; see ports.Runner.
func (r *Runner) Handle(jobType string, h ports.Handler, opt ports.HandlerOptions) {
	if r.running.Load() {
		panic("localqueue: Handle called after Run")
	}
	if _, dup := r.handlers[jobType]; dup {
		panic(fmt.Sprintf("localqueue: a handler for %q is already registered", jobType))
	}
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	if opt.Backoff == nil {
		opt.Backoff = ports.DefaultBackoff
	}
	r.handlers[jobType] = handler{fn: h, concurrency: opt.Concurrency, backoff: opt.Backoff}
}

// Run handles jobs until ctx ends, then drains; see ports.Runner.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.handlers) == 0 {
		return ports.Errorf(ports.EInvalid, "localqueue: no handlers registered")
	}
	if !r.running.CompareAndSwap(false, true) {
		return ports.Errorf(ports.EConflict, "localqueue: the runner is already running")
	}
	defer r.running.Store(false)

	var (
		pollers sync.WaitGroup
		runs    sync.WaitGroup
		abandon = make(chan struct{})
	)
	for typ, h := range r.handlers {
		pollers.Go(func() { r.poll(ctx, typ, h, &runs, abandon) })
	}
	pollers.Go(func() { r.pruneLoop(ctx) })
	pollers.Wait() // the pollers return when ctx ends

	drained := make(chan struct{})
	go func() { runs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(r.q.opts.DrainTimeout):
		close(abandon)
		<-drained // abandoned runs return as soon as their job is released
	}
	return nil
}

// poll claims due jobs of one type while a slot is free, and sleeps until
// woken or the poll interval passes when there are none.
func (r *Runner) poll(ctx context.Context, typ string, h handler, runs *sync.WaitGroup, abandon <-chan struct{}) {
	wake := r.q.subscribe(typ)
	defer r.q.unsubscribe(typ, wake)
	slots := make(chan struct{}, h.concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		c, err := r.q.claim(ctx, typ)
		if err != nil && ctx.Err() == nil {
			r.q.log.ErrorContext(ctx, "claim job", "type", typ, "err", err)
		}
		if c != nil {
			runs.Go(func() {
				defer func() { <-slots }()
				r.execute(ctx, c, h, abandon)
			})
			continue
		}
		<-slots
		timer.Reset(r.q.opts.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
	}
}

// execute runs the handler of one claimed job, renewing the lease while it
// runs, and records the outcome unless the run was abandoned or its claim
// lost. The handler runs in its own goroutine so that an abandoned run does
// not hold up the drain: it is left to finish with a cancelled ctx, its
// result ignored.
func (r *Runner) execute(runCtx context.Context, c *claimed, h handler, abandon <-chan struct{}) {
	// Handlers outlive Run's ctx during the drain; they are cancelled only
	// when abandoned or when the claim is lost.
	base := context.WithoutCancel(runCtx)
	if c.delivery.Attempt > c.delivery.MaxAttempts {
		// The previous run crashed on the last attempt.
		r.record(base, c, h, ports.Errorf(ports.EInternal, "the runner of the last attempt stopped before it finished"))
		return
	}
	hctx, cancel := context.WithCancel(base)
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- call(hctx, h.fn, c.delivery) }()

	renew := time.NewTicker(r.q.opts.Lease / 3)
	defer renew.Stop()
	for {
		select {
		case err := <-result:
			r.record(base, c, h, err)
			return
		case <-renew.C:
			if !r.renewLease(base, c) {
				return
			}
		case <-abandon:
			select {
			case err := <-result: // finished just now: record it rather than run it again
				r.record(base, c, h, err)
				return
			default:
			}
			cancel()
			r.release(base, c)
			return
		}
	}
}

// call runs the handler, turning a panic into an EInternal error so that
// one bad job cannot take the runner down.
func call(ctx context.Context, h ports.Handler, d ports.Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ports.Errorf(ports.EInternal, "handler panicked: %v", p)
		}
	}()
	return h(ctx, d)
}

// renewLease reports whether the run still holds its claim. A storage
// error is logged and the run goes on: the lease may still be valid, and if
// it runs out the claim token keeps this run from recording anything.
func (r *Runner) renewLease(ctx context.Context, c *claimed) bool {
	held, err := r.q.renew(ctx, c)
	if err != nil {
		r.q.log.WarnContext(ctx, "renew job lease", "job", c.delivery.ID, "err", err)
	}
	if !held {
		r.q.log.WarnContext(ctx, "job lease lost; its result will be ignored", "job", c.delivery.ID, "type", c.delivery.Type)
	}
	return held
}

// record applies the retry table to a run's outcome.
func (r *Runner) record(ctx context.Context, c *claimed, h handler, runErr error) {
	ctx, cancel := context.WithTimeout(ctx, finishTimeout)
	defer cancel()
	d := c.delivery
	attrs := []any{"job", d.ID, "type", d.Type, "attempt", d.Attempt, "maxAttempts", d.MaxAttempts, "err", runErr}
	var err error
	decision := ports.RetryFor(runErr)
	switch {
	case runErr == nil:
		err = r.q.complete(ctx, c)
	case !decision.Retry, decision.CountsAsFailure && d.Attempt >= d.MaxAttempts:
		r.q.log.ErrorContext(ctx, "job failed for good", attrs...)
		err = r.q.bury(ctx, c, runErr.Error())
	default:
		delay := decision.After
		if delay <= 0 {
			delay = h.backoff(d.Attempt)
		}
		// A deferral (rate limited: the instance busy, or held by another
		// node) is routine, and frequent on several nodes.
		level := slog.LevelWarn
		if !decision.CountsAsFailure {
			level = slog.LevelDebug
		}
		r.q.log.Log(ctx, level, "job will be retried", append(attrs, "in", delay)...)
		err = r.q.reschedule(ctx, c, time.Now().Add(delay), !decision.CountsAsFailure, runErr.Error())
	}
	if err != nil {
		// The lease runs out and the job runs again: handlers are idempotent.
		r.q.log.ErrorContext(ctx, "record job outcome", "job", d.ID, "err", err)
	}
}

// release hands an abandoned job back at once, without using up its
// attempt: the run was stopped by the shutdown, not failed by the job.
func (r *Runner) release(ctx context.Context, c *claimed) {
	ctx, cancel := context.WithTimeout(ctx, finishTimeout)
	defer cancel()
	r.q.log.WarnContext(ctx, "job abandoned at shutdown", "job", c.delivery.ID, "type", c.delivery.Type)
	if err := r.q.reschedule(ctx, c, time.Now(), true, "abandoned at shutdown"); err != nil {
		r.q.log.ErrorContext(ctx, "release abandoned job; it runs again when its lease runs out", "job", c.delivery.ID, "err", err)
	}
}

func (r *Runner) pruneLoop(ctx context.Context) {
	ticker := time.NewTicker(pruneInterval)
	defer ticker.Stop()
	for {
		if n, err := r.q.prune(ctx); err != nil && ctx.Err() == nil {
			r.q.log.WarnContext(ctx, "prune dead jobs", "err", err)
		} else if n > 0 {
			r.q.log.InfoContext(ctx, "pruned dead jobs", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
