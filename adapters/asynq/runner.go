package asynqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wagate/wagate/ports"
)

// Runner runs the handlers registered with it, one asynq.Server per job
// type; see ports.Runner.
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

// Handle registers h for jobType; see ports.Runner.
func (r *Runner) Handle(jobType string, h ports.Handler, opt ports.HandlerOptions) {
	if r.running.Load() {
		panic("asynqueue: Handle called after Run")
	}
	if _, dup := r.handlers[jobType]; dup {
		panic(fmt.Sprintf("asynqueue: a handler for %q is already registered", jobType))
	}
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	if opt.Backoff == nil {
		opt.Backoff = ports.DefaultBackoff
	}
	r.handlers[jobType] = handler{fn: h, concurrency: opt.Concurrency, backoff: opt.Backoff}
}

// Run serves the registered types until ctx ends, then shuts the servers
// down: asynq waits DrainTimeout for running handlers and puts the jobs of
// those still running back in their queue, without using up an attempt.
// The handlers' ctx is cancelled after that, so that abandoned handlers
// stop.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.handlers) == 0 {
		return ports.Errorf(ports.EInvalid, "asynqueue: no handlers registered")
	}
	if !r.running.CompareAndSwap(false, true) {
		return ports.Errorf(ports.EConflict, "asynqueue: the runner is already running")
	}
	defer r.running.Store(false)
	if err := r.q.opts.Redis.Ping(ctx).Err(); err != nil {
		return unavailable("start job runner", err)
	}
	// Handlers outlive ctx during the drain.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	servers := make([]*asynq.Server, 0, len(r.handlers))
	defer func() { shutdown(servers) }()
	for typ, h := range r.handlers {
		srv := asynq.NewServerFromRedisClient(r.q.opts.Redis, r.config(typ, h, base))
		if err := srv.Start(r.process(typ, h)); err != nil {
			return fmt.Errorf("start job runner for %s: %w", typ, err)
		}
		servers = append(servers, srv)
	}
	<-ctx.Done()
	return nil
}

// shutdown stops the servers together, so that the drain takes one
// DrainTimeout, not one per type.
func shutdown(servers []*asynq.Server) {
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(srv.Shutdown)
	}
	wg.Wait()
}

func (r *Runner) config(typ string, h handler, base context.Context) asynq.Config {
	return asynq.Config{
		Concurrency:              h.concurrency,
		BaseContext:              func() context.Context { return base },
		Queues:                   map[string]int{r.q.QueueName(typ): 1},
		TaskCheckInterval:        r.q.opts.PollInterval,
		DelayedTaskCheckInterval: r.q.opts.PollInterval,
		RetryDelayFunc:           retryDelay(h.backoff),
		IsFailure:                func(err error) bool { return ports.RetryFor(err).CountsAsFailure },
		ShutdownTimeout:          r.q.opts.DrainTimeout,
		Logger:                   logger{r.q.log},
		LogLevel:                 asynq.WarnLevel,
	}
}

// retryDelay applies the retry table's delay: the error's own (a rate
// limit's RetryAfter) or the backoff of the attempt that failed (asynq's n
// is the number of attempts already counted before it).
func retryDelay(backoff func(int) time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		d := ports.RetryFor(err).After
		if d <= 0 {
			d = backoff(n + 1)
		}
		now := time.Now()
		return ceilSecond(now.Add(d)).Sub(now)
	}
}

// process adapts a ports.Handler and applies the retry table: codes that
// must not be retried, and counted failures on the last attempt, are
// joined with asynq.SkipRetry, which archives the task (a dead job).
func (r *Runner) process(typ string, h handler) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		d := delivery(ctx, t)
		log := r.q.log.With("job", d.ID, "type", typ, "attempt", d.Attempt, "maxAttempts", d.MaxAttempts)
		if d.Attempt > d.MaxAttempts {
			// asynq's recoverer retried a job whose runner crashed on the
			// last attempt.
			err := ports.Errorf(ports.EInternal, "the runner of the last attempt stopped before it finished")
			log.ErrorContext(ctx, "job failed for good", "err", err)
			return errors.Join(err, asynq.SkipRetry)
		}
		err := call(ctx, h.fn, d)
		if err == nil {
			return nil
		}
		dec := ports.RetryFor(err)
		if !dec.Retry || dec.CountsAsFailure && d.Attempt >= d.MaxAttempts {
			log.ErrorContext(ctx, "job failed for good", "err", err)
			return errors.Join(err, asynq.SkipRetry)
		}
		// A deferral (rate limited: the instance busy, or held by another
		// node) is routine, and frequent on several nodes.
		level := slog.LevelWarn
		if !dec.CountsAsFailure {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "job will be retried", "err", err)
		return err
	}
}

// delivery reads the job back from the task and asynq's context values.
func delivery(ctx context.Context, t *asynq.Task) ports.Delivery {
	id, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	return ports.Delivery{
		Job: ports.Job{
			ID:          id,
			Type:        t.Type(),
			Payload:     t.Payload(),
			MaxAttempts: maxRetry, // Enqueue stores MaxAttempts as the retry limit
			Trace:       t.Headers(),
		},
		Attempt: retried + 1,
	}
}

// call runs the handler, turning a panic into an EInternal error so that it
// goes through the retry table like any failure.
func call(ctx context.Context, h ports.Handler, d ports.Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ports.Errorf(ports.EInternal, "handler panicked: %v", p)
		}
	}()
	return h(ctx, d)
}

// logger bridges asynq's logger to slog.
type logger struct{ log *slog.Logger }

func (l logger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l logger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l logger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l logger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }

// Fatal logs at error level: asynq's own logger exits the process after
// calling it, and asynq v0.26 calls it nowhere.
func (l logger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)) }
