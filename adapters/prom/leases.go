package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/core/ownership"
)

// Leases is the ownership core's Observer: how instances move between
// nodes.
type Leases struct {
	claims *prometheus.CounterVec
	lost   prometheus.Counter
}

var _ ownership.Observer = (*Leases)(nil)

// NewLeases registers the lease metrics on reg. Registering twice on one
// registry reuses the collectors already there.
func NewLeases(reg prometheus.Registerer) (*Leases, error) {
	m := &Leases{
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_lease_claims_total",
			Help: "Instance leases this node claimed, by kind: new (nobody held it) or takeover (another node held it: it died or handed it over).",
		}, []string{"kind"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wagate_lease_losses_total",
			Help: "Instance leases this node held and lost before renewing them (its connection was closed here).",
		}),
	}
	var err error
	if m.claims, err = register(reg, m.claims); err != nil {
		return nil, err
	}
	if m.lost, err = register(reg, m.lost); err != nil {
		return nil, err
	}
	// Both kinds are there from the start, at zero.
	m.claims.WithLabelValues("new")
	m.claims.WithLabelValues("takeover")
	return m, nil
}

// Claimed counts one claim.
func (m *Leases) Claimed(takeover bool) {
	kind := "new"
	if takeover {
		kind = "takeover"
	}
	m.claims.WithLabelValues(kind).Inc()
}

// Lost counts one lease lost.
func (m *Leases) Lost() { m.lost.Inc() }
