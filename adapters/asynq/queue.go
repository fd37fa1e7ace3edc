// Package asynqueue is the Redis job queue, on hibiken/asynq. It implements
// ports.Queue, ports.Runner and ports.JobCounter with the semantics the
// embedded queue (adapters/localqueue) has, so that either can be chosen by
// configuration.
//
// Each job type is its own asynq queue, "<prefix>:<type>", served by its
// own asynq.Server in a Runner: that is how a type gets its own concurrency
// limit and backoff (asynq has one of each per server), and a busy type
// cannot take the workers of another. asynq's key names cannot be prefixed,
// so the queue prefix is also what keeps deployments (and tests) sharing a
// Redis apart.
//
// A dead job is an archived task: asynq keeps the last 10,000 of a queue
// for 90 days, and its id stays taken meanwhile (asynqmon can delete it).
// A completed task is deleted at once, which frees its id.
//
// Where asynq differs: it schedules delayed jobs and retries at whole
// seconds, so delays are rounded up to the next second (a job never runs
// early, but may run up to a second late); a handler's ctx has asynq's
// 30-minute deadline; and a job whose runner crashed (no graceful stop) is
// recovered by asynq's recoverer only after its 30-second lease has been
// expired for 30 seconds, checked once a minute: one to two minutes, not
// configurable in asynq v0.26.
package asynqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/ports"
)

// Options configure a Queue.
type Options struct {
	// Redis is the connection, shared with asynq; its owner closes it
	// after the runners have stopped.
	Redis redis.UniversalClient
	// Prefix names the asynq queues; default "wagate".
	Prefix string
	// PollInterval is how often an idle runner looks for jobs, and moves
	// due delayed jobs and retries to their queue; default 20 ms. It is
	// the latency floor of a job on an idle queue, paid twice by a
	// webhook's first attempt (the dispatch job, then the delivery job):
	// make bench's paced webhooks measured event → first attempt p50/p99
	// 79/157 ms at 50 ms and 40/78 ms at 20 ms. It costs an idle runner
	// some 50 cheap Redis calls a second.
	PollInterval time.Duration
	// DrainTimeout is how long Run waits for running handlers after its
	// ctx ends before abandoning them; default 10 s.
	DrainTimeout time.Duration
	// Log receives handler failures and asynq's warnings; nil discards them.
	Log *slog.Logger
}

// Queue is the Redis queue. It is safe for concurrent use.
type Queue struct {
	opts      Options
	log       *slog.Logger
	client    *asynq.Client
	inspector *asynq.Inspector
}

var _ ports.Queue = (*Queue)(nil)

// New returns a queue on opts.Redis. It does not contact Redis.
func New(opts Options) (*Queue, error) {
	if opts.Redis == nil {
		return nil, errors.New("asynqueue: no Redis client")
	}
	if opts.Prefix == "" {
		opts.Prefix = "wagate"
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{
		opts:      opts,
		log:       log,
		client:    asynq.NewClientFromRedisClient(opts.Redis),
		inspector: asynq.NewInspectorFromRedisClient(opts.Redis),
	}, nil
}

// QueueName returns the asynq queue that holds the jobs of jobType, for
// tools such as asynqmon.
func (q *Queue) QueueName(jobType string) string { return q.opts.Prefix + ":" + jobType }

// Enqueue stores j; see ports.Queue. j.Trace travels in the task's
// headers, and the attempt budget in asynq's retry count.
func (q *Queue) Enqueue(ctx context.Context, j ports.Job) error {
	if err := j.Validate(); err != nil {
		return err
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = ports.DefaultMaxAttempts
	}
	opts := []asynq.Option{
		asynq.Queue(q.QueueName(j.Type)),
		asynq.TaskID(j.ID),
		// One retry more than the failures allow: the handler wrapper
		// stops a job at MaxAttempts itself, and a rate-limited run on
		// the last attempt, which does not count, must not hit asynq's
		// own limit first.
		asynq.MaxRetry(j.MaxAttempts),
	}
	if now := time.Now(); j.RunAt.After(now) {
		opts = append(opts, asynq.ProcessAt(ceilSecond(j.RunAt)))
	}
	task := asynq.NewTaskWithHeaders(j.Type, j.Payload, j.Trace, opts...)
	_, err := q.client.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return ports.Errorf(ports.EConflict, "job %s already exists", j.ID)
	case err != nil:
		return unavailable("enqueue "+j.ID, err)
	}
	return nil
}

// Depth counts the pending, scheduled and retry tasks of each of this
// prefix's queues; the conformance suite (test/queuetest) checks it.
func (q *Queue) Depth(ctx context.Context) (map[string]int, error) {
	infos, err := q.queueInfos(ctx, "queue depth")
	if err != nil {
		return nil, err
	}
	depth := map[string]int{}
	for typ, info := range infos {
		if n := info.Pending + info.Scheduled + info.Retry + info.Aggregating; n > 0 {
			depth[typ] = n
		}
	}
	return depth, nil
}

// queueInfos returns asynq's information on each of this prefix's queues,
// by job type. The inspector takes no ctx: ctx is checked between queues.
func (q *Queue) queueInfos(ctx context.Context, op string) (map[string]*asynq.QueueInfo, error) {
	queues, err := q.inspector.Queues()
	if err != nil {
		return nil, unavailable(op, err)
	}
	infos := map[string]*asynq.QueueInfo{}
	for _, name := range queues {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		typ, ok := strings.CutPrefix(name, q.opts.Prefix+":")
		if !ok {
			continue
		}
		info, err := q.inspector.GetQueueInfo(name)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, unavailable(op, err)
		}
		infos[typ] = info
	}
	return infos, nil
}

// JobState reports where a job stands; the conformance suite
// (test/queuetest) watches jobs through it.
func (q *Queue) JobState(ctx context.Context, jobType, id string) (ports.JobState, error) {
	info, err := q.inspector.GetTaskInfo(q.QueueName(jobType), id)
	switch {
	case errors.Is(err, asynq.ErrQueueNotFound), errors.Is(err, asynq.ErrTaskNotFound):
		return "", ports.Errorf(ports.ENotFound, "job %s not found", id)
	case err != nil:
		return "", unavailable("job state "+id, err)
	}
	switch info.State {
	case asynq.TaskStateActive:
		return ports.JobRunning, nil
	case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry, asynq.TaskStateAggregating:
		return ports.JobPending, nil
	case asynq.TaskStateArchived:
		return ports.JobDead, nil
	case asynq.TaskStateCompleted: // only with a retention, which Enqueue never sets
		return "", ports.Errorf(ports.ENotFound, "job %s not found", id)
	}
	return "", fmt.Errorf("job state %s: unknown asynq state %v", id, info.State)
}

// NewRunner returns a runner for this queue's jobs. Several runners, in
// this process or others, may share a queue.
func (q *Queue) NewRunner() *Runner {
	return &Runner{q: q, handlers: map[string]handler{}}
}

// unavailable marks a Redis failure as EUnavailable, keeping asynq's error
// in the chain for the log.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ports.Errorf(ports.EUnavailable, "the job queue is unavailable"), err)
}

// ceilSecond rounds t up to a whole second: asynq keeps schedules as Unix
// seconds, truncated, and would otherwise run a job up to a second early.
func ceilSecond(t time.Time) time.Time {
	s := t.Truncate(time.Second)
	if s.Before(t) {
		s = s.Add(time.Second)
	}
	return s
}
