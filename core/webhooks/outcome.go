package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OutcomeKind is what one delivery attempt leads to.
type OutcomeKind int

// The outcome kinds.
const (
	// Delivered: a 2xx answer; the delivery is done.
	Delivered OutcomeKind = iota + 1
	// Retry: the attempt failed; the delivery runs again on the schedule
	// (see RetryAt) or, when it is used up, is dead.
	Retry
	// Disable: the receiver answered 410 Gone; the endpoint is disabled and
	// the delivery is not retried.
	Disable
	// Abandoned: the attempt was cancelled on our side (shutdown), not
	// failed by the receiver; it must not use up an attempt or count toward
	// auto-disable.
	Abandoned
)

func (k OutcomeKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Disable:
		return "disable"
	case Abandoned:
		return "abandoned"
	}
	return fmt.Sprintf("OutcomeKind(%d)", int(k))
}

// MaxRetryAfter caps the delay a receiver may ask for with Retry-After, so
// that one answer cannot park a delivery for days; the schedule's own later
// steps are longer anyway.
const MaxRetryAfter = time.Hour

// Outcome is the classification of one delivery attempt.
type Outcome struct {
	Kind OutcomeKind
	// After is the delay the receiver asked for with Retry-After on a 429
	// or 503, capped at MaxRetryAfter; zero when it asked for none.
	// RetryAt applies it as a lower bound on the schedule's step.
	After time.Duration
	// Reason is a short text for the delivery log ("HTTP 500", "timeout");
	// empty when delivered.
	Reason string
}

// Classify turns the result of one attempt into an Outcome. err is the
// transport error (then status is ignored); otherwise status is the HTTP
// status code and retryAfter the raw Retry-After header, read at now.
//
//	2xx                      Delivered
//	3xx                      Retry: redirects are never followed, so they fail
//	410                      Disable
//	429, 503                 Retry, honouring Retry-After (seconds or HTTP-date)
//	other status             Retry
//	timeout, network error   Retry
//	context.Canceled         Abandoned
//
// Retry-After only sets Outcome.After: RetryAt waits at least that long
// (at most MaxRetryAfter) but never less than the schedule's step, and the
// attempt still counts, so a receiver cannot keep a delivery retrying
// forever or burn its attempts in seconds.
//
// A target refused by the SSRF guard is a network error too: DNS may point
// it back to a public address, and auto-disable ends a lasting refusal.
func Classify(status int, err error, retryAfter string, now time.Time) Outcome {
	if err != nil {
		return classifyError(err)
	}
	switch {
	case status >= 200 && status <= 299:
		return Outcome{Kind: Delivered}
	case status >= 300 && status <= 399:
		return Outcome{Kind: Retry, Reason: fmt.Sprintf("HTTP %d: redirects are not followed", status)}
	case status == http.StatusGone:
		return Outcome{Kind: Disable, Reason: "HTTP 410: the endpoint is gone"}
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return Outcome{Kind: Retry, After: parseRetryAfter(retryAfter, now), Reason: fmt.Sprintf("HTTP %d", status)}
	}
	return Outcome{Kind: Retry, Reason: fmt.Sprintf("HTTP %d", status)}
}

func classifyError(err error) Outcome {
	// A deadline is the 15 s delivery timeout; only a plain cancellation
	// comes from our side.
	if errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return Outcome{Kind: Abandoned, Reason: "cancelled"}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return Outcome{Kind: Retry, Reason: "timeout"}
	}
	return Outcome{Kind: Retry, Reason: err.Error()}
}

// parseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): delay
// seconds or an HTTP-date. Anything unreadable, negative or in the past is
// no request (0); a long one is capped at MaxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	switch {
	case err == nil:
		return time.Duration(min(secs, uint64(MaxRetryAfter/time.Second))) * time.Second
	case errors.Is(err, strconv.ErrRange): // digits beyond uint64: very long
		return MaxRetryAfter
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(at.Sub(now), 0), MaxRetryAfter)
}

// AutoDisableAfter is how long an endpoint may fail without a single
// success before it is disabled.
const AutoDisableAfter = 5 * 24 * time.Hour

// AutoDisable reports whether an endpoint is disabled for failing too long:
// its failures began at firstFailure (zero if it is not failing), no
// success came after it, and AutoDisableAfter has passed since. Time
// without events is not failure, which is why the rule counts from the
// first failure and not from lastSuccess.
func AutoDisable(lastSuccess, firstFailure, now time.Time) bool {
	if firstFailure.IsZero() || lastSuccess.After(firstFailure) {
		return false
	}
	return now.Sub(firstFailure) >= AutoDisableAfter
}
