// Package prom reports what the cores observe as Prometheus metrics, on
// the registry that GET /metrics serves. The cores define small observer
// interfaces and never import Prometheus; this package implements them.
//
// Labels come only from the fixed sets the cores document (outcomes,
// reasons), never from tenants, instances, endpoints or URLs, and any
// value outside a set is folded into "other", so that the series stay
// few whatever happens.
package prom

import (
	"errors"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/core/webhooks"
)

// Webhooks is the webhooks core's Observer.
type Webhooks struct {
	attempts *prometheus.CounterVec
	duration *prometheus.HistogramVec
	dropped  *prometheus.CounterVec
	disabled *prometheus.CounterVec
	lost     prometheus.Counter
}

var _ webhooks.Observer = (*Webhooks)(nil)

var (
	outcomes = []string{webhooks.OutcomeDelivered, webhooks.OutcomeFailed, webhooks.OutcomeDead, webhooks.OutcomeGone}
	drops    = []string{webhooks.DropEndpointDisabled}
	disables = []string{webhooks.DisableGone, webhooks.DisableFailing}
)

// attemptBuckets spread over what a receiver may take: a few milliseconds
// on a local network up to the 15 s timeout.
var attemptBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15}

// NewWebhooks registers the webhook metrics on reg. Registering twice on
// one registry reuses the collectors already there.
func NewWebhooks(reg prometheus.Registerer) (*Webhooks, error) {
	m := &Webhooks{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: delivered, failed (retried), dead (schedule used up), gone (410).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wagate_webhook_attempt_duration_seconds",
			Help:    "Time a webhook delivery attempt took, from the request to the answer or the error, by outcome.",
			Buckets: attemptBuckets,
		}, []string{"outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_webhook_deliveries_dropped_total",
			Help: "Webhook deliveries given up without an attempt, by reason.",
		}, []string{"reason"}),
		disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_webhook_endpoints_disabled_total",
			Help: "Webhook endpoints disabled by the system, by reason: gone (410) or failing (no success for 5 days).",
		}, []string{"reason"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wagate_webhook_fanout_failures_total",
			Help: "Events whose webhook deliveries could not be written, even after retries: their webhooks never get them.",
		}),
	}
	var err error
	if m.attempts, err = register(reg, m.attempts); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.dropped, err = register(reg, m.dropped); err != nil {
		return nil, err
	}
	if m.disabled, err = register(reg, m.disabled); err != nil {
		return nil, err
	}
	if m.lost, err = register(reg, m.lost); err != nil {
		return nil, err
	}
	// Every series exists from the start, at zero: a rate over a series
	// that appears only with its first failure misses that failure.
	for _, o := range outcomes {
		m.attempts.WithLabelValues(o)
	}
	for _, r := range drops {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range disables {
		m.disabled.WithLabelValues(r)
	}
	return m, nil
}

// Attempted counts one attempt and its latency.
func (m *Webhooks) Attempted(outcome string, latency time.Duration) {
	outcome = known(outcomes, outcome)
	m.attempts.WithLabelValues(outcome).Inc()
	m.duration.WithLabelValues(outcome).Observe(max(latency, 0).Seconds())
}

// Dropped counts n deliveries given up without an attempt.
func (m *Webhooks) Dropped(reason string, n int) {
	if n > 0 {
		m.dropped.WithLabelValues(known(drops, reason)).Add(float64(n))
	}
}

// Disabled counts an endpoint the system disabled.
func (m *Webhooks) Disabled(reason string) {
	m.disabled.WithLabelValues(known(disables, reason)).Inc()
}

// FanOutFailed counts a failed dispatch run or an event skipped by webhooks.
func (m *Webhooks) FanOutFailed() { m.lost.Inc() }

// known returns v if it is in set, else "other".
func known(set []string, v string) string {
	if slices.Contains(set, v) {
		return v
	}
	return "other"
}

// register registers c, or reuses the collector already registered under
// the same name: one registry may be shared by several services (tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}
