package prom

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/ports"
)

// ScrapeOptions tune the gauges counted when /metrics is scraped. Zero
// values select the defaults.
type ScrapeOptions struct {
	// TTL is how long a count is reused, so that several Prometheus
	// servers, or a short scrape interval, do not each query the database
	// or Redis; default 5 s.
	TTL time.Duration
	// Timeout bounds a count; default 2 s. A count that fails or takes
	// longer reports no samples for its family, and the rest of the
	// scrape goes on. A count still running when the next scrape comes is
	// waited for again, never started twice.
	Timeout time.Duration
	// Log receives a count's failure, once until it works again; nil
	// discards it.
	Log *slog.Logger
	// Now is the clock of TTL; nil means time.Now.
	Now func() time.Time
}

func (o ScrapeOptions) withDefaults() ScrapeOptions {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// The label values of the scrape-time gauges: fixed sets, with anything
// else folded into "other".
var (
	instanceStatuses = []string{
		string(ports.StatusCreated), string(ports.StatusConnecting), string(ports.StatusQR),
		string(ports.StatusConnected), string(ports.StatusDisconnected), string(ports.StatusLoggedOut),
	}
	// movingStatuses are the only message statuses counted from the table:
	// the rows still on their way out, which the (status, updated_at)
	// index finds without reading the history. How many messages reached
	// the other statuses is wagate_message_status_changes_total.
	movingStatuses = []ports.MessageStatus{ports.MsgQueued, ports.MsgSending}
	jobStates      = []string{"ready", "delayed", "running", "dead"}
)

var (
	sessionsDesc = prometheus.NewDesc("wagate_sessions",
		"Instances (WhatsApp sessions) of every tenant by connection status, counted from the database.",
		[]string{"status"}, nil)
	messagesDesc = prometheus.NewDesc("wagate_messages",
		"Outbound messages of every tenant still on their way out, by status: queued (waiting for their send) or sending (claimed by a worker), counted from the database.",
		[]string{"status"}, nil)
	queueJobsDesc = prometheus.NewDesc("wagate_queue_jobs",
		"Jobs in the queue by type and state: ready (due, waiting for a worker), delayed (scheduled or waiting to retry), running, dead (failed for good, kept a while).",
		[]string{"type", "state"}, nil)
)

// NewStatusCounts registers wagate_sessions and wagate_messages, counted
// by c when /metrics is scraped. The counts are the whole system's, so
// every node reports the same.
func NewStatusCounts(reg prometheus.Registerer, c ports.StatusCounts, opt ScrapeOptions) error {
	opt = opt.withDefaults()
	col := &statusCollector{
		sessions: newSnapshot("wagate_sessions", opt, c.CountInstancesByStatus),
		messages: newSnapshot("wagate_messages", opt, func(ctx context.Context) (map[ports.MessageStatus]int, error) {
			return c.CountMessagesByStatus(ctx, movingStatuses...)
		}),
	}
	_, err := register(reg, col)
	return err
}

// statusCollector reports the status counts of instances and messages.
type statusCollector struct {
	sessions *snapshot[map[ports.InstanceStatus]int]
	messages *snapshot[map[ports.MessageStatus]int]
}

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- messagesDesc
}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	if counts, ok := c.sessions.get(); ok {
		byLabel := fold(instanceStatuses, counts)
		for _, st := range instanceStatuses {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(byLabel[st]), st)
		}
		if n, ok := byLabel["other"]; ok {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n), "other")
		}
	}
	if counts, ok := c.messages.get(); ok {
		for _, st := range movingStatuses {
			ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
		}
	}
}

// fold sums counts by label: a key in set is its own label, any other
// key adds to "other" (present only then).
func fold[K ~string](set []string, counts map[K]int) map[string]int {
	out := make(map[string]int, len(set)+1)
	for k, n := range counts {
		out[known(set, string(k))] += n
	}
	return out
}

// NewQueueDepth registers wagate_queue_jobs, counted by q when /metrics is
// scraped. types returns the job types a handler is registered for, the
// only values of the type label: a type nothing here handles is counted
// as "other".
func NewQueueDepth(reg prometheus.Registerer, q ports.JobCounter, types func() []string, opt ScrapeOptions) error {
	opt = opt.withDefaults()
	col := &queueCollector{types: types, jobs: newSnapshot("wagate_queue_jobs", opt, q.CountJobs)}
	_, err := register(reg, col)
	return err
}

// queueCollector reports the jobs in the queue by type and state.
type queueCollector struct {
	types func() []string
	jobs  *snapshot[map[string]ports.JobCounts]
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueJobsDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	counts, ok := c.jobs.get()
	if !ok {
		return
	}
	types := slices.Sorted(slices.Values(c.types()))
	types = slices.Compact(types)
	byType := make(map[string]ports.JobCounts, len(types)+1)
	for typ, n := range counts {
		label := known(types, typ)
		sum := byType[label]
		sum.Ready += n.Ready
		sum.Delayed += n.Delayed
		sum.Running += n.Running
		sum.Dead += n.Dead
		byType[label] = sum
	}
	emit := func(typ string, n ports.JobCounts) {
		for i, v := range []int{n.Ready, n.Delayed, n.Running, n.Dead} {
			ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(v), typ, jobStates[i])
		}
	}
	// Every handled type has its series, at zero when it has no jobs, so
	// that an alert on a backlog sees it drop to zero.
	for _, typ := range types {
		emit(typ, byType[typ])
	}
	if n, ok := byType["other"]; ok && !slices.Contains(types, "other") {
		emit("other", n)
	}
}

// errSlow is the failure logged when a count outlasts its timeout.
var errSlow = errors.New("the count took longer than its timeout")

// snapshot is a count reused for a while, taken with a timeout, one at a
// time.
type snapshot[T any] struct {
	family string
	opt    ScrapeOptions
	load   func(context.Context) (T, error)

	mu      sync.Mutex
	last    *result[T]     // nil until a count has finished
	pending chan result[T] // the count in progress, if any
	failing bool           // the last count failed, and was logged
}

type result[T any] struct {
	val T
	err error
	at  time.Time
}

func newSnapshot[T any](family string, opt ScrapeOptions, load func(context.Context) (T, error)) *snapshot[T] {
	return &snapshot[T]{family: family, opt: opt, load: load}
}

// get returns the count, taking a new one when the last is older than the
// TTL; false when the count failed or is not done within the timeout.
func (s *snapshot[T]) get() (T, bool) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	if s.pending == nil && (s.last == nil || now.Sub(s.last.at) >= s.opt.TTL || now.Before(s.last.at)) {
		s.pending = make(chan result[T], 1)
		go s.count(s.pending, now)
	}
	if s.pending != nil {
		timer := time.NewTimer(s.opt.Timeout)
		defer timer.Stop()
		select {
		case r := <-s.pending:
			s.pending, s.last = nil, &r
			s.report(r.err)
		case <-timer.C:
			// The count goes on (it has the same timeout, unless its
			// storage ignores contexts); the next scrape takes its result.
			s.report(errSlow)
			return zero, false
		}
	}
	if s.last.err != nil {
		return zero, false
	}
	return s.last.val, true
}

// count runs one count into ch.
func (s *snapshot[T]) count(ch chan<- result[T], at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.Timeout)
	defer cancel()
	v, err := s.load(ctx)
	ch <- result[T]{val: v, err: err, at: at}
}

// report logs a failure when counting starts failing, and the recovery,
// rather than at every scrape.
func (s *snapshot[T]) report(err error) {
	switch {
	case err != nil && !s.failing:
		s.failing = true
		s.opt.Log.Warn("metrics: a count failed; its samples are left out until it works", "family", s.family, "err", err)
	case err == nil && s.failing:
		s.failing = false
		s.opt.Log.Info("metrics: a count works again", "family", s.family)
	}
}
