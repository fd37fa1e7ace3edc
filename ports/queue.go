package ports

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// DefaultMaxAttempts is the attempt budget of a job enqueued with
// MaxAttempts zero.
const DefaultMaxAttempts = 10

// Job is a unit of background work. Its payload is opaque to the queue: the
// module that enqueues a type also decodes it in the handler.
type Job struct {
	// ID is required and unique: enqueuing an id that is pending, running or
	// dead (dead jobs are kept a while for inspection) fails with EConflict
	// and changes nothing. Once a job has completed, its id may be reused.
	ID string
	// Type selects the handler, like a route.
	Type    string
	Payload []byte
	// RunAt delays the first run; zero (or a past time) runs it now. Queues
	// may run a job a little after RunAt, never before.
	RunAt time.Time
	// MaxAttempts bounds the runs that count as failures (see RetryFor);
	// zero means DefaultMaxAttempts.
	MaxAttempts int
	// Trace is carried to the handler unchanged, for trace propagation.
	Trace map[string]string
}

// Limits every queue enforces on a job, whatever its storage.
const (
	MaxJobIDLen   = 128
	MaxJobTypeLen = 100
)

// Validate returns EInvalid if the id or type is empty or too long, or
// MaxAttempts is negative.
func (j Job) Validate() error {
	var fields []FieldError
	if j.ID == "" || len(j.ID) > MaxJobIDLen {
		fields = append(fields, FieldError{Field: "id", Message: fmt.Sprintf("must be 1 to %d bytes", MaxJobIDLen)})
	}
	if j.Type == "" || len(j.Type) > MaxJobTypeLen {
		fields = append(fields, FieldError{Field: "type", Message: fmt.Sprintf("must be 1 to %d bytes", MaxJobTypeLen)})
	}
	if j.MaxAttempts < 0 {
		fields = append(fields, FieldError{Field: "maxAttempts", Message: "must not be negative"})
	}
	if len(fields) > 0 {
		return InvalidFields(fields...)
	}
	return nil
}

// Delivery is one run of a job. Job.RunAt is not carried to the handler.
type Delivery struct {
	Job
	// Attempt counts from 1. A run that ended rate limited, or that was
	// abandoned at shutdown, does not use up an attempt, so the next run has
	// the same number.
	Attempt int
}

// Handler runs one job. It must be idempotent: a job may run again after a
// crash, or when its runner was stopped before the handler returned. Its
// ctx is cancelled when the run is abandoned (the drain timeout passed, or
// its lease was lost); its result is then ignored. The error decides what
// happens next, through RetryFor.
type Handler func(ctx context.Context, d Delivery) error

// HandlerOptions tune the handling of one job type.
type HandlerOptions struct {
	// Concurrency is the most runs of this type at once in one Runner;
	// zero or less means 1.
	Concurrency int
	// Backoff gives the delay before the run after a failed attempt (1 for
	// the first); nil means DefaultBackoff.
	Backoff func(attempt int) time.Duration
}

// Queue accepts jobs.
type Queue interface {
	// Enqueue stores j durably for a Runner to handle. EInvalid if
	// j.Validate fails; EConflict if a job with the id is pending, running
	// or dead; EUnavailable if the queue's storage does not answer.
	Enqueue(ctx context.Context, j Job) error
}

// Runner runs handlers for the jobs of the types registered with it. Jobs
// of a type no running Runner handles wait.
type Runner interface {
	// Handle registers h for jobType. Call it before Run; registering a type
	// twice panics, as with http.ServeMux.
	Handle(jobType string, h Handler, opt HandlerOptions)
	// Run handles jobs until ctx ends, then drains: it stops taking jobs and
	// waits for running handlers up to the runner's drain timeout; the runs
	// still going are abandoned (their ctx is cancelled and their jobs go
	// back to the queue, without using up an attempt). Run returns nil after
	// a drain, an error if it cannot start (EInvalid with no handlers).
	Run(ctx context.Context) error
}

// JobState is where a job stands in its queue, as both queues report it
// to the conformance suite (test/queuetest), which watches jobs retry and
// die through it.
type JobState string

// The job states. A completed job is gone (ENotFound).
const (
	JobPending JobState = "pending" // waiting to run, now or later (delayed, or a retry)
	JobRunning JobState = "running" // claimed by a runner, or left by one that crashed
	JobDead    JobState = "dead"    // failed for good; kept a while for inspection
)

// RetryDecision is what becomes of a job whose handler returned an error.
type RetryDecision struct {
	// Retry says whether the job runs again; false makes it dead at once.
	Retry bool
	// CountsAsFailure says whether the run used up an attempt: a job whose
	// attempts are used up is dead instead of retried.
	CountsAsFailure bool
	// After is the delay the error asks for; zero means the handler's
	// backoff for the attempt.
	After time.Duration
}

// RetryFor is the one table mapping a handler's error to retry behaviour;
// both queue adapters follow it.
//
//	nil                                       done (the zero decision)
//	EUnavailable, EInternal and plain errors  retry after the backoff, counts as a failure
//	ERateLimited                              retry after Error.RetryAfter (or the backoff),
//	                                          does not use up an attempt
//	EInvalid, ENotFound, EConflict, EForbidden,
//	EUnauthorized, ETooLarge, EUnsupported    dead at once: a retry would fail the same way
func RetryFor(err error) RetryDecision {
	switch ErrorCodeOf(err) {
	case "":
		return RetryDecision{}
	case ERateLimited:
		var after time.Duration
		if e := AsError(err); e != nil && e.RetryAfter > 0 {
			after = e.RetryAfter
		}
		return RetryDecision{Retry: true, After: after}
	case EInvalid, ENotFound, EConflict, EForbidden, EUnauthorized, ETooLarge, EUnsupported:
		return RetryDecision{}
	default: // EUnavailable, EInternal
		return RetryDecision{Retry: true, CountsAsFailure: true}
	}
}

// DefaultBackoff doubles from one second, capped at ten minutes, with up to
// 20% jitter so that jobs failing together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	const base, limit = time.Second, 10 * time.Minute
	d := limit
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 10 {
		d = min(base<<(attempt-1), limit)
	}
	return d + rand.N(d/5+1)
}
