package prom_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wagate/wagate/adapters/prom"
	"github.com/wagate/wagate/core/webhooks"
)

func TestWebhooksMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := prom.NewWebhooks(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Attempted(webhooks.OutcomeDelivered, 20*time.Millisecond)
	m.Attempted(webhooks.OutcomeDelivered, 30*time.Millisecond)
	m.Attempted(webhooks.OutcomeFailed, time.Second)
	m.Attempted("https://evil.example/?id=42", time.Second) // never a label of its own
	m.Dropped(webhooks.DropEndpointDisabled, 3)
	m.Disabled(webhooks.DisableFailing)
	m.FanOutFailed()

	want := `
# HELP wagate_webhook_attempts_total Webhook delivery attempts by outcome: delivered, failed (retried), dead (schedule used up), gone (410).
# TYPE wagate_webhook_attempts_total counter
wagate_webhook_attempts_total{outcome="dead"} 0
wagate_webhook_attempts_total{outcome="delivered"} 2
wagate_webhook_attempts_total{outcome="failed"} 1
wagate_webhook_attempts_total{outcome="gone"} 0
wagate_webhook_attempts_total{outcome="other"} 1
# HELP wagate_webhook_deliveries_dropped_total Webhook deliveries given up without an attempt, by reason.
# TYPE wagate_webhook_deliveries_dropped_total counter
wagate_webhook_deliveries_dropped_total{reason="endpoint_disabled"} 3
# HELP wagate_webhook_endpoints_disabled_total Webhook endpoints disabled by the system, by reason: gone (410) or failing (no success for 5 days).
# TYPE wagate_webhook_endpoints_disabled_total counter
wagate_webhook_endpoints_disabled_total{reason="failing"} 1
wagate_webhook_endpoints_disabled_total{reason="gone"} 0
# HELP wagate_webhook_fanout_failures_total Events whose webhook deliveries could not be written, even after retries: their webhooks never get them.
# TYPE wagate_webhook_fanout_failures_total counter
wagate_webhook_fanout_failures_total 1
`
	names := []string{"wagate_webhook_attempts_total", "wagate_webhook_deliveries_dropped_total", "wagate_webhook_endpoints_disabled_total", "wagate_webhook_fanout_failures_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "wagate_webhook_attempt_duration_seconds"); n != 3 {
		t.Errorf("got %d latency series, want 3 (delivered, failed, other)", n)
	}
}

func TestWebhooksMetricsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := prom.NewWebhooks(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := prom.NewWebhooks(reg)
	if err != nil {
		t.Fatalf("second registration: got %v, want the collectors reused", err)
	}
	a.FanOutFailed()
	b.FanOutFailed()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP wagate_webhook_fanout_failures_total Events whose webhook deliveries could not be written, even after retries: their webhooks never get them.
# TYPE wagate_webhook_fanout_failures_total counter
wagate_webhook_fanout_failures_total 2
`), "wagate_webhook_fanout_failures_total"); err != nil {
		t.Error(err)
	}
}
