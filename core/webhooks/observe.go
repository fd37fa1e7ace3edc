package webhooks

import "time"

// Observer is told what deliveries do, for metrics. Every argument is from
// a small fixed set (never an endpoint, URL or tenant), so that an adapter
// may use them as labels. Its methods must be quick and safe for
// concurrent use.
type Observer interface {
	// Attempted is told of each attempt made: its outcome (one of the
	// Outcome* names) and how long the POST took.
	Attempted(outcome string, latency time.Duration)
	// Dropped is told of n deliveries that never got an attempt, for a
	// Drop* reason.
	Dropped(reason string, n int)
	// Disabled is told of an endpoint the system disabled, for a Disable*
	// reason.
	Disabled(reason string)
	// FanOutFailed is told of a dispatch run that could not write its
	// deliveries (the event stays in the log and the next run retries it),
	// and of an event without a wire form, which its webhooks never get.
	FanOutFailed()
}

// The outcomes of an attempt, as an Observer sees them.
const (
	OutcomeDelivered = "delivered" // a 2xx answer
	OutcomeFailed    = "failed"    // failed; the delivery is retried
	OutcomeDead      = "dead"      // failed, and the schedule is used up (or the endpoint was disabled)
	OutcomeGone      = "gone"      // 410: the endpoint is disabled
)

// DropEndpointDisabled is the reason deliveries are dropped when their
// endpoint was disabled before their attempt.
const DropEndpointDisabled = "endpoint_disabled"

// The reasons the system disables an endpoint.
const (
	DisableGone    = "gone"    // the receiver answered 410
	DisableFailing = "failing" // no success for AutoDisableAfter
)

// nopObserver is the Observer of a service built without one.
type nopObserver struct{}

func (nopObserver) Attempted(string, time.Duration) {}
func (nopObserver) Dropped(string, int)             {}
func (nopObserver) Disabled(string)                 {}
func (nopObserver) FanOutFailed()                   {}
