package prom_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wagate/wagate/adapters/prom"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/capstest"
)

// recordingQueue keeps what was enqueued.
type recordingQueue struct{ jobs []ports.Job }

func (q *recordingQueue) Enqueue(_ context.Context, j ports.Job) error {
	q.jobs = append(q.jobs, j)
	return nil
}

// recordingRunner keeps the handlers registered with it.
type recordingRunner struct{ handlers map[string]ports.Handler }

func (r *recordingRunner) Handle(jobType string, h ports.Handler, _ ports.HandlerOptions) {
	r.handlers[jobType] = h
}

func (r *recordingRunner) Run(context.Context) error { return nil }

// The stamping queue keeps the queue's optional capabilities: the
// queue depth gauge looks for JobCounter on it.
func TestJobsQueueKeepsCapabilities(t *testing.T) {
	jobs, err := prom.NewJobs(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	capstest.Queue(t, jobs.Queue)
}

func TestJobsStampDueTime(t *testing.T) {
	jobs, err := prom.NewJobs(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	q := &recordingQueue{}
	stamping := jobs.Queue(q)
	trace := map[string]string{"traceparent": "00-abc-def-01"}
	before := time.Now()
	if err := stamping.Enqueue(t.Context(), ports.Job{ID: "a", Type: "t", Trace: trace}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	if err := stamping.Enqueue(t.Context(), ports.Job{ID: "b", Type: "t", RunAt: later}); err != nil {
		t.Fatal(err)
	}
	if len(trace) != 1 {
		t.Errorf("the caller's trace: got %v, want it untouched", trace)
	}
	now, _ := strconv.ParseInt(q.jobs[0].Trace[prom.DueKey], 10, 64)
	if now < before.UnixMicro() || q.jobs[0].Trace["traceparent"] != "00-abc-def-01" {
		t.Errorf("job enqueued now: got trace %v, want the traceparent and a due time at or after %d", q.jobs[0].Trace, before.UnixMicro())
	}
	if got := q.jobs[1].Trace[prom.DueKey]; got != strconv.FormatInt(later.UnixMicro(), 10) {
		t.Errorf("delayed job: got due %s, want its run-at time %d", got, later.UnixMicro())
	}
}

func TestJobsMeasureRuns(t *testing.T) {
	reg := prometheus.NewRegistry()
	jobs, err := prom.NewJobs(reg)
	if err != nil {
		t.Fatal(err)
	}
	inner := &recordingRunner{handlers: map[string]ports.Handler{}}
	r := jobs.Runner(inner)
	var seen []map[string]string
	results := map[string]error{}
	h := func(_ context.Context, d ports.Delivery) error {
		seen = append(seen, d.Trace)
		return results[d.ID]
	}
	r.Handle("message.send", h, ports.HandlerOptions{})
	r.Handle("webhook.deliver", h, ports.HandlerOptions{})
	if got := jobs.Types(); !slices.Equal(got, []string{"message.send", "webhook.deliver"}) {
		t.Errorf("types: got %v, want the two registered, sorted", got)
	}

	// A job due in the future when it runs waited no time at all.
	future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMicro(), 10)
	run := inner.handlers["message.send"]
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		ctx      context.Context
		d        ports.Delivery
		err      error
		outcome  string
		measured bool // the wait of the run is observed
	}{
		{t.Context(), delivery("done", 1, 3, map[string]string{prom.DueKey: future, "traceparent": "x"}), nil, prom.JobDone, true},
		{t.Context(), delivery("retry", 1, 3, map[string]string{prom.DueKey: future}), ports.Errorf(ports.EUnavailable, "down"), prom.JobRetry, true},
		{t.Context(), delivery("last", 3, 3, map[string]string{prom.DueKey: future}), errors.New("plain"), prom.JobDead, false},
		{t.Context(), delivery("invalid", 2, 3, nil), ports.Errorf(ports.EInvalid, "bad payload"), prom.JobDead, false},
		{t.Context(), delivery("paced", 1, 0, map[string]string{prom.DueKey: future}), &ports.Error{Code: ports.ERateLimited, RetryAfter: time.Second}, prom.JobDeferred, true},
		{cancelled, delivery("drained", 1, 3, map[string]string{prom.DueKey: "garbage"}), context.Canceled, prom.JobAbandoned, false},
	} {
		results[tc.d.ID] = tc.err
		before := histogramCount(t, reg, "wagate_job_duration_seconds", tc.outcome, "message.send")
		waits := histogramCount(t, reg, "wagate_job_wait_seconds", "message.send")
		if err := run(tc.ctx, tc.d); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v from the wrapper, want the handler's %v", tc.d.ID, err, tc.err)
		}
		if got := histogramCount(t, reg, "wagate_job_duration_seconds", tc.outcome, "message.send"); got != before+1 {
			t.Errorf("%s: got %d runs with outcome %s, want %d", tc.d.ID, got, tc.outcome, before+1)
		}
		wantWaits := waits
		if tc.measured {
			wantWaits++
		}
		if got := histogramCount(t, reg, "wagate_job_wait_seconds", "message.send"); got != wantWaits {
			t.Errorf("%s: got %d waits observed, want %d", tc.d.ID, got, wantWaits)
		}
	}
	if sum := histogramSum(t, reg, "wagate_job_wait_seconds", "message.send"); sum != 0 {
		t.Errorf("waits of jobs not due yet: got a sum of %v s, want 0", sum)
	}
	for i, tr := range seen {
		if _, ok := tr[prom.DueKey]; ok {
			t.Errorf("run %d: the handler saw the due stamp in %v, want it hidden", i, tr)
		}
	}
	if !maps.Equal(seen[0], map[string]string{"traceparent": "x"}) || seen[1] != nil {
		t.Errorf("traces handed on: got %v and %v, want the traceparent alone, then nil", seen[0], seen[1])
	}
	// Registered types have their series from the start.
	if n, err := testutil.GatherAndCount(reg, "wagate_job_wait_seconds"); err != nil || n != 2 {
		t.Errorf("got %d wait series (%v), want one per registered type", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: got %v, %v, want no problems", problems, err)
	}
}

func delivery(id string, attempt, maxAttempts int, trace map[string]string) ports.Delivery {
	return ports.Delivery{Job: ports.Job{ID: id, Type: "message.send", MaxAttempts: maxAttempts, Trace: trace}, Attempt: attempt}
}

// histogramCount returns the sample count of the histogram series of name
// with the label values, in the order of the label names (sorted); 0 if
// absent.
func histogramCount(t *testing.T, g prometheus.Gatherer, name string, labels ...string) uint64 {
	t.Helper()
	if h := histogram(t, g, name, labels); h != nil {
		return h.GetSampleCount()
	}
	return 0
}

func histogramSum(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	if h := histogram(t, g, name, labels); h != nil {
		return h.GetSampleSum()
	}
	return 0
}

func histogram(t *testing.T, g prometheus.Gatherer, name string, labels []string) interface {
	GetSampleCount() uint64
	GetSampleSum() float64
} {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue metrics
				}
			}
			return m.GetHistogram()
		}
	}
	return nil
}
