package prom

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/ports"
)

// Jobs measures the background jobs: how long each waited for a worker
// and how long its handler ran. Its Queue stamps every job with the time
// it becomes due, which the job carries in its Trace (ports.Job.Trace is
// carried to the handler unchanged, by both queues and across nodes); its
// Runner reads the stamp back when a run starts, and hides it from the
// handler.
type Jobs struct {
	wait     *prometheus.HistogramVec
	duration *prometheus.HistogramVec
	now      func() time.Time

	mu    sync.Mutex
	types []string // the job types a handler is registered for
}

// DueKey is the Trace entry holding the time a job becomes due, in Unix
// microseconds.
const DueKey = "wagate-due"

// The outcomes of a job's run.
const (
	JobDone      = "done"      // the handler succeeded
	JobRetry     = "retry"     // failed; runs again after its backoff
	JobDeferred  = "deferred"  // rate limited: runs again later without using up an attempt
	JobDead      = "dead"      // failed for good (an error no retry fixes, or the last attempt)
	JobAbandoned = "abandoned" // the run was cancelled (shutdown drain, lost lease): it runs again
)

// waitBuckets span a job picked up at once to a backlog of an hour.
var waitBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// runBuckets span a handler's run up to sends of large media.
var runBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120}

// NewJobs registers the job metrics on reg. Registering twice on one
// registry reuses the collectors already there.
func NewJobs(reg prometheus.Registerer) (*Jobs, error) {
	j := &Jobs{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wagate_job_wait_seconds",
			Help: "Time a job waited for a worker: from when it became due (enqueued, or its run-at time) to the start of a run of its first attempt, by type. " +
				"A run deferred without using up an attempt (pacing) is observed again, with the time since the job became due.",
			Buckets: waitBuckets,
		}, []string{"type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wagate_job_duration_seconds",
			Help:    "Time a job's handler ran, by type and outcome: done, retry, deferred (rate limited), dead, abandoned.",
			Buckets: runBuckets,
		}, []string{"type", "outcome"}),
		now: time.Now,
	}
	var err error
	if j.wait, err = register(reg, j.wait); err != nil {
		return nil, err
	}
	if j.duration, err = register(reg, j.duration); err != nil {
		return nil, err
	}
	return j, nil
}

// Types returns the job types a handler is registered for through a
// Runner of j, sorted.
func (j *Jobs) Types() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.types)
}

// Queue returns q stamping each job with the time it becomes due; the
// result keeps q's optional capabilities.
func (j *Jobs) Queue(q ports.Queue) ports.Queue {
	return ports.KeepQueueCapabilities(stampingQueue{next: q, now: j.now}, q)
}

// Runner returns r measuring the handlers registered with it. Job types
// come from the code that registers handlers, a fixed set, so they are
// labels as they are.
func (j *Jobs) Runner(r ports.Runner) ports.Runner { return measuredRunner{next: r, jobs: j} }

type stampingQueue struct {
	next ports.Queue
	now  func() time.Time
}

// Enqueue adds the due time to a copy of j.Trace.
func (q stampingQueue) Enqueue(ctx context.Context, j ports.Job) error {
	due := q.now()
	if j.RunAt.After(due) {
		due = j.RunAt
	}
	trace := make(map[string]string, len(j.Trace)+1)
	maps.Copy(trace, j.Trace)
	trace[DueKey] = strconv.FormatInt(due.UnixMicro(), 10)
	j.Trace = trace
	return q.next.Enqueue(ctx, j)
}

type measuredRunner struct {
	next ports.Runner
	jobs *Jobs
}

func (r measuredRunner) Handle(jobType string, h ports.Handler, opt ports.HandlerOptions) {
	r.next.Handle(jobType, r.jobs.measure(jobType, h), opt)
	r.jobs.mu.Lock()
	defer r.jobs.mu.Unlock()
	if i, found := slices.BinarySearch(r.jobs.types, jobType); !found {
		r.jobs.types = slices.Insert(r.jobs.types, i, jobType)
	}
	// The series a dashboard needs exist from the start, at zero.
	r.jobs.wait.WithLabelValues(jobType)
	r.jobs.duration.WithLabelValues(jobType, JobDone)
}

func (r measuredRunner) Run(ctx context.Context) error { return r.next.Run(ctx) }

// measure wraps h: it observes the wait of a first attempt that carries a
// due time, and the run's duration by outcome.
func (j *Jobs) measure(jobType string, h ports.Handler) ports.Handler {
	return func(ctx context.Context, d ports.Delivery) error {
		start := j.now()
		if raw, ok := d.Trace[DueKey]; ok {
			if us, err := strconv.ParseInt(raw, 10, 64); err == nil && d.Attempt <= 1 {
				j.wait.WithLabelValues(jobType).Observe(max(start.Sub(time.UnixMicro(us)), 0).Seconds())
			}
			trace := maps.Clone(d.Trace)
			delete(trace, DueKey)
			if len(trace) == 0 {
				trace = nil
			}
			d.Trace = trace
		}
		err := h(ctx, d)
		j.duration.WithLabelValues(jobType, runOutcome(ctx, d, err)).Observe(max(j.now().Sub(start), 0).Seconds())
		return err
	}
}

// runOutcome tells what becomes of the job after a run, by the table the
// queues follow (ports.RetryFor).
func runOutcome(ctx context.Context, d ports.Delivery, err error) string {
	if ctx.Err() != nil {
		return JobAbandoned // the queue ignores the result
	}
	if err == nil {
		return JobDone
	}
	dec := ports.RetryFor(err)
	maxAttempts := d.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = ports.DefaultMaxAttempts
	}
	switch {
	case !dec.Retry:
		return JobDead
	case !dec.CountsAsFailure:
		return JobDeferred
	case d.Attempt >= maxAttempts:
		return JobDead
	}
	return JobRetry
}
