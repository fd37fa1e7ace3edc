package prom_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wagate/wagate/adapters/prom"
	"github.com/wagate/wagate/ports"
)

// fakeCounts answers with its functions and counts the calls.
type fakeCounts struct {
	instances func(ctx context.Context) (map[ports.InstanceStatus]int, error)
	messages  func(ctx context.Context, st ...ports.MessageStatus) (map[ports.MessageStatus]int, error)
	calls     atomic.Int32
}

func (f *fakeCounts) CountInstancesByStatus(ctx context.Context) (map[ports.InstanceStatus]int, error) {
	f.calls.Add(1)
	return f.instances(ctx)
}

func (f *fakeCounts) CountMessagesByStatus(ctx context.Context, st ...ports.MessageStatus) (map[ports.MessageStatus]int, error) {
	return f.messages(ctx, st...)
}

// clock is a settable time for the TTL.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink the collectors may write from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

func TestStatusGauges(t *testing.T) {
	var asked []ports.MessageStatus
	f := &fakeCounts{
		instances: func(context.Context) (map[ports.InstanceStatus]int, error) {
			return map[ports.InstanceStatus]int{ports.StatusConnected: 2, ports.StatusQR: 1, "zombie": 3, "ghost": 1}, nil
		},
		messages: func(_ context.Context, st ...ports.MessageStatus) (map[ports.MessageStatus]int, error) {
			asked = st
			return map[ports.MessageStatus]int{ports.MsgQueued: 4}, nil
		},
	}
	reg := prometheus.NewRegistry()
	if err := prom.NewStatusCounts(reg, f, prom.ScrapeOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP wagate_messages Outbound messages of every tenant still on their way out, by status: queued (waiting for their send) or sending (claimed by a worker), counted from the database.
# TYPE wagate_messages gauge
wagate_messages{status="queued"} 4
wagate_messages{status="sending"} 0
# HELP wagate_sessions Instances (WhatsApp sessions) of every tenant by connection status, counted from the database.
# TYPE wagate_sessions gauge
wagate_sessions{status="connected"} 2
wagate_sessions{status="connecting"} 0
wagate_sessions{status="created"} 0
wagate_sessions{status="disconnected"} 0
wagate_sessions{status="logged_out"} 0
wagate_sessions{status="other"} 4
wagate_sessions{status="qr"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wagate_sessions", "wagate_messages"); err != nil {
		t.Error(err)
	}
	if !slices.Equal(asked, []ports.MessageStatus{ports.MsgQueued, ports.MsgSending}) {
		t.Errorf("messages counted in statuses %v, want only queued and sending (the index range, not the history)", asked)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: got %v, %v, want no problems", problems, err)
	}
}

// A failing count leaves its family out of the scrape, logged once until
// it works again; the other family is still there.
func TestStatusGaugeFailure(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	f := &fakeCounts{
		instances: func(context.Context) (map[ports.InstanceStatus]int, error) {
			if broken.Load() {
				return nil, errors.New("connection refused")
			}
			return map[ports.InstanceStatus]int{ports.StatusConnected: 1}, nil
		},
		messages: func(context.Context, ...ports.MessageStatus) (map[ports.MessageStatus]int, error) {
			return map[ports.MessageStatus]int{ports.MsgSending: 1}, nil
		},
	}
	var logs syncBuffer
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := prometheus.NewRegistry()
	opt := prom.ScrapeOptions{TTL: time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: clk.Now}
	if err := prom.NewStatusCounts(reg, f, opt); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if n, err := testutil.GatherAndCount(reg, "wagate_sessions"); err != nil || n != 0 {
			t.Errorf("scrape %d while counting fails: got %d session samples (%v), want none and no error", i, n, err)
		}
		if n, _ := testutil.GatherAndCount(reg, "wagate_messages"); n != 2 {
			t.Errorf("scrape %d: got %d message samples, want 2", i, n)
		}
		clk.Add(time.Second)
	}
	if got := f.calls.Load(); got != 3 {
		t.Errorf("got %d counts over 3 scrapes a TTL apart, want 3", got)
	}
	if n := logs.count("a count failed"); n != 1 {
		t.Errorf("got the failure logged %d times, want once:\n%s", n, logs.String())
	}
	broken.Store(false)
	if n, _ := testutil.GatherAndCount(reg, "wagate_sessions"); n != 6 {
		t.Errorf("after recovery: got %d session samples, want 6", n)
	}
	if n := logs.count("a count works again"); n != 1 {
		t.Errorf("got the recovery logged %d times, want once", n)
	}
}

// Counts are reused for the TTL: frequent scrapes do not hammer the
// database.
func TestStatusGaugesCached(t *testing.T) {
	f := &fakeCounts{
		instances: func(context.Context) (map[ports.InstanceStatus]int, error) { return nil, nil },
		messages: func(context.Context, ...ports.MessageStatus) (map[ports.MessageStatus]int, error) {
			return nil, nil
		},
	}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := prometheus.NewRegistry()
	if err := prom.NewStatusCounts(reg, f, prom.ScrapeOptions{TTL: 5 * time.Second, Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("got %d counts for 4 scrapes within the TTL, want 1", got)
	}
	clk.Add(time.Second) // 5 s after the first count
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Load(); got != 2 {
		t.Errorf("got %d counts once the TTL passed, want 2", got)
	}
}

// A count past its timeout reports nothing, is never started a second
// time while it runs, and its result serves the scrape after it ends.
func TestStatusGaugeTimeout(t *testing.T) {
	release := make(chan struct{})
	f := &fakeCounts{
		// Like a store that ignores its context.
		instances: func(context.Context) (map[ports.InstanceStatus]int, error) {
			<-release
			return map[ports.InstanceStatus]int{ports.StatusConnected: 7}, nil
		},
		// Like a store that honours it.
		messages: func(ctx context.Context, _ ...ports.MessageStatus) (map[ports.MessageStatus]int, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	reg := prometheus.NewRegistry()
	if err := prom.NewStatusCounts(reg, f, prom.ScrapeOptions{TTL: time.Second, Timeout: 10 * time.Millisecond, Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if n, err := testutil.GatherAndCount(reg, "wagate_sessions", "wagate_messages"); err != nil || n != 0 {
			t.Errorf("scrape %d of stuck counts: got %d samples (%v), want none and no error", i, n, err)
		}
		clk.Add(2 * time.Second)
	}
	if got := f.calls.Load(); got != 1 {
		t.Errorf("got %d instance counts started, want 1: the stuck one is waited for, not repeated", got)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v := gauge(t, reg, "wagate_sessions", "connected"); v == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stuck count's result never reached a scrape")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gauge returns the value of name{status or state=label}, or -1.
func gauge(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
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
			for i, l := range m.GetLabel() {
				if i >= len(labels) || l.GetValue() != labels[i] {
					continue metrics
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

type fakeJobCounter map[string]ports.JobCounts

func (f fakeJobCounter) CountJobs(context.Context) (map[string]ports.JobCounts, error) { return f, nil }

func TestQueueDepth(t *testing.T) {
	q := fakeJobCounter{
		"message.send":    {Ready: 2, Delayed: 1},
		"webhook.deliver": {Running: 1, Dead: 3},
		"rogue.one":       {Ready: 5},
		"rogue.two":       {Ready: 1, Dead: 1},
	}
	types := func() []string { return []string{"webhook.deliver", "message.send", "bulk.run"} }
	reg := prometheus.NewRegistry()
	if err := prom.NewQueueDepth(reg, q, types, prom.ScrapeOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP wagate_queue_jobs Jobs in the queue by type and state: ready (due, waiting for a worker), delayed (scheduled or waiting to retry), running, dead (failed for good, kept a while).
# TYPE wagate_queue_jobs gauge
wagate_queue_jobs{state="dead",type="bulk.run"} 0
wagate_queue_jobs{state="dead",type="message.send"} 0
wagate_queue_jobs{state="dead",type="other"} 1
wagate_queue_jobs{state="dead",type="webhook.deliver"} 3
wagate_queue_jobs{state="delayed",type="bulk.run"} 0
wagate_queue_jobs{state="delayed",type="message.send"} 1
wagate_queue_jobs{state="delayed",type="other"} 0
wagate_queue_jobs{state="delayed",type="webhook.deliver"} 0
wagate_queue_jobs{state="ready",type="bulk.run"} 0
wagate_queue_jobs{state="ready",type="message.send"} 2
wagate_queue_jobs{state="ready",type="other"} 6
wagate_queue_jobs{state="ready",type="webhook.deliver"} 0
wagate_queue_jobs{state="running",type="bulk.run"} 0
wagate_queue_jobs{state="running",type="message.send"} 0
wagate_queue_jobs{state="running",type="other"} 0
wagate_queue_jobs{state="running",type="webhook.deliver"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wagate_queue_jobs"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: got %v, %v, want no problems", problems, err)
	}
}
