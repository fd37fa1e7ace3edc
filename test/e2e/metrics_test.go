package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// GET /metrics (SPEC §11, issue 6): after an instance is linked, a message
// sent and its webhook delivered, the scrape has the HTTP, queue depth and
// latency, sessions and messages by status, webhook and Go runtime
// families, with the values that flow left; once the instance is
// disconnected, a message waiting for it shows as queued and its job as
// retrying. No label carries a tenant's ids, numbers or URLs. It runs on
// each database with the embedded queue, and on PostgreSQL with asynq.
// Lease takeovers have no metric yet: the multi-node work is not built.

func TestMetrics(t *testing.T) {
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			metricsFlow(t, b)
		})
	}
}

func metricsFlow(t *testing.T, b backend) {
	env := map[string]string{
		"WAGATE_JWT_SECRET":            jwtSecret,
		"WAGATE_LOG_LEVEL":             "info",
		"WAGATE_AUTH_RATE_PER_MIN":     "100000",
		"WAGATE_WHATSAPP":              "sandbox",
		"WAGATE_SEND_DELAY":            "0",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
	}
	maps.Copy(env, b.env(t))
	s := startOwned(t, b.name, env)
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "metrics")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	rc := newRecorder(t, nil)
	createWebhook(t, s, a.Access, inst, map[string]any{"url": rc.srv.URL, "events": []string{"*"}})

	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": "counted, not labelled"})
	wantStatus(t, r, http.StatusAccepted)
	sent := str(r.JSON, "id")

	send, deliver := map[string]string{"type": "message.send"}, map[string]string{"type": "webhook.deliver"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := maps.Clone(m)
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	var expects []expect
	for _, state := range []string{"ready", "delayed", "running", "dead"} {
		expects = append(expects,
			expect{"wagate_queue_jobs", with(send, "state", state), ">=", 0},
			expect{"wagate_queue_jobs", with(deliver, "state", state), ">=", 0})
	}
	expects = append(expects,
		// HTTP, by route template.
		expect{"wagate_http_requests_total", map[string]string{"method": "POST", "route": "/api/v1/messages/text", "status": "202"}, ">=", 1},
		expect{"wagate_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/api/v1/messages/text"}, ">=", 1},
		// Sessions by status.
		expect{"wagate_sessions", map[string]string{"status": "connected"}, "=", 1},
		expect{"wagate_sessions", map[string]string{"status": "disconnected"}, "=", 0},
		expect{"wagate_session_status_changes_total", map[string]string{"status": "connected"}, ">=", 1},
		// Messages by status: none left on the way, one sent and delivered.
		expect{"wagate_messages", map[string]string{"status": "queued"}, "=", 0},
		expect{"wagate_messages", map[string]string{"status": "sending"}, "=", 0},
		expect{"wagate_message_status_changes_total", map[string]string{"status": "sent"}, ">=", 1},
		expect{"wagate_message_status_changes_total", map[string]string{"status": "delivered"}, ">=", 1},
		// Queue latency: the send waited and ran, and so did a delivery.
		expect{"wagate_job_wait_seconds", send, ">=", 1},
		expect{"wagate_job_duration_seconds", with(send, "outcome", "done"), ">=", 1},
		expect{"wagate_job_wait_seconds", deliver, ">=", 1},
		expect{"wagate_job_duration_seconds", with(deliver, "outcome", "done"), ">=", 1},
		// Webhook deliveries.
		expect{"wagate_webhook_attempts_total", map[string]string{"outcome": "delivered"}, ">=", 1},
		// Lease takeovers (none on one node).
		expect{"wagate_lease_claims_total", map[string]string{"kind": "takeover"}, "=", 0},
		// Go runtime and process.
		expect{"go_goroutines", nil, ">=", 1},
		expect{"process_cpu_seconds_total", nil, ">=", 0},
	)
	sc := waitMetrics(t, s, "after a delivered message", expects)
	wantTypes(t, sc, map[string]dto.MetricType{
		"wagate_http_requests_total":          dto.MetricType_COUNTER,
		"wagate_sessions":                     dto.MetricType_GAUGE,
		"wagate_messages":                     dto.MetricType_GAUGE,
		"wagate_queue_jobs":                   dto.MetricType_GAUGE,
		"wagate_job_wait_seconds":             dto.MetricType_HISTOGRAM,
		"wagate_job_duration_seconds":         dto.MetricType_HISTOGRAM,
		"wagate_message_status_changes_total": dto.MetricType_COUNTER,
		"wagate_session_status_changes_total": dto.MetricType_COUNTER,
		"wagate_webhook_attempts_total":       dto.MetricType_COUNTER,
		"wagate_lease_claims_total":           dto.MetricType_COUNTER,
		"go_goroutines":                       dto.MetricType_GAUGE,
	})

	// Disconnected, the instance keeps a new message queued, and its send
	// job retries: the gauges follow.
	wantStatus(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/disconnect", a.Access, nil), http.StatusAccepted)
	waitInstance(t, s, a.Access, inst, "disconnected")
	r = s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": "waiting"})
	wantStatus(t, r, http.StatusAccepted)
	waiting := str(r.JSON, "id")
	sc = waitMetrics(t, s, "with a message waiting for a disconnected instance", []expect{
		{"wagate_sessions", map[string]string{"status": "connected"}, "=", 0},
		{"wagate_sessions", map[string]string{"status": "disconnected"}, "=", 1},
		{"wagate_session_status_changes_total", map[string]string{"status": "disconnected"}, ">=", 1},
		{"wagate_messages", map[string]string{"status": "queued"}, "=", 1},
		{"wagate_job_duration_seconds", with(send, "outcome", "retry"), ">=", 1},
		{"wagate_queue_jobs", with(send, "state", "delayed"), "=", 1},
	})
	wantBoundedLabels(t, sc, []string{inst, a.SubID, a.UserID, sent, waiting, digits(phone), strings.TrimPrefix(rc.srv.URL, "http://")})
}

// expect is one condition on a series: its value (a histogram's: its
// count) compared with op ("=" or ">=") to v. labels select the series:
// every one must match, others may be there.
type expect struct {
	name   string
	labels map[string]string
	op     string
	v      float64
}

func (e expect) String() string {
	keys := slices.Sorted(maps.Keys(e.labels))
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + fmt.Sprintf("%q", e.labels[k])
	}
	return fmt.Sprintf("%s{%s} %s %v", e.name, strings.Join(pairs, ","), e.op, e.v)
}

// scrape is a parsed GET /metrics.
type scrape map[string]*dto.MetricFamily

func (s *ownedServer) scrape(t *testing.T) scrape {
	t.Helper()
	r := s.do(t, "GET", "/metrics", "", nil)
	wantStatus(t, r, http.StatusOK)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%.2000s", err, r.Body)
	}
	return fams
}

// value returns the value of the first series of name whose labels
// include labels, and whether there is one.
func (sc scrape) value(name string, labels map[string]string) (float64, bool) {
	f, ok := sc[name]
	if !ok {
		return 0, false
	}
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue series
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount()), true
		default:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// unmet returns the expectations sc does not meet, described.
func (sc scrape) unmet(expects []expect) []string {
	var out []string
	for _, e := range expects {
		v, ok := sc.value(e.name, e.labels)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("want %s: no such series", e))
		case e.op == "=" && v != e.v, e.op == ">=" && v < e.v:
			out = append(out, fmt.Sprintf("want %s: got %v", e, v))
		}
	}
	return out
}

// waitMetrics scrapes until every expectation holds (the flows they count
// finish in the background, and the status gauges are cached for a few
// seconds), failing the test with the last misses at the deadline.
func waitMetrics(t *testing.T, s *ownedServer, what string, expects []expect) scrape {
	t.Helper()
	deadline := time.Now().Add(flowWait)
	for {
		sc := s.scrape(t)
		missing := sc.unmet(expects)
		if len(missing) == 0 {
			return sc
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics %s:\n%s", what, strings.Join(missing, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wantTypes checks the type of each family.
func wantTypes(t *testing.T, sc scrape, types map[string]dto.MetricType) {
	t.Helper()
	for name, typ := range types {
		if f, ok := sc[name]; !ok || f.GetType() != typ {
			t.Errorf("family %s: got type %v (present: %v), want %v", name, f.GetType(), ok, typ)
		}
	}
}

// wantBoundedLabels checks wagate's families: their labels are of the
// fixed kinds, and no value holds anything of a tenant.
func wantBoundedLabels(t *testing.T, sc scrape, secrets []string) {
	t.Helper()
	allowed := []string{"method", "route", "status", "outcome", "reason", "type", "state", "kind", "le"}
	names := make([]string, 0, len(sc))
	for name := range sc {
		names = append(names, name)
	}
	sort.Strings(names)
	series := 0
	for _, name := range names {
		if !strings.HasPrefix(name, "wagate_") {
			continue
		}
		for _, m := range sc[name].GetMetric() {
			series++
			for _, l := range m.GetLabel() {
				if !slices.Contains(allowed, l.GetName()) {
					t.Errorf("%s: got label %q, want only %v", name, l.GetName(), allowed)
				}
				for _, s := range secrets {
					if s != "" && strings.Contains(l.GetValue(), s) {
						t.Errorf("%s: label %s=%q holds a tenant's %q", name, l.GetName(), l.GetValue(), s)
					}
				}
			}
		}
	}
	if series == 0 {
		t.Error("got no wagate_ series to check")
	}
}
