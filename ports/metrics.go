package ports

import "context"

// StatusCounts counts rows across every subscription, for the gauges of
// GET /metrics. Like InstanceDirectory it takes no subscription id: what it
// returns is the whole system's, never shown to a tenant.
type StatusCounts interface {
	// CountInstancesByStatus returns how many instances are in each
	// status; statuses with none may be absent.
	CountInstancesByStatus(ctx context.Context) (map[InstanceStatus]int, error)
	// CountMessagesByStatus returns how many messages are in each of
	// statuses (absent ones have none); no statuses: an empty map. Asking
	// only for the statuses a message leaves (queued, sending) keeps the
	// count to the rows still moving, whatever the size of the history.
	CountMessagesByStatus(ctx context.Context, statuses ...MessageStatus) (map[MessageStatus]int, error)
}

// JobCounts is how many jobs of one type stand in each state of a queue.
type JobCounts struct {
	Ready   int // due, waiting for a runner
	Delayed int // waiting for their run-at time: scheduled jobs and retries
	Running int // claimed by a runner (or by one that crashed, until its lease runs out)
	Dead    int // failed for good, kept a while for inspection
}

// JobCounter is an optional capability of a Queue, for metrics: it tells
// due jobs from delayed ones, and counts running and dead jobs too.
type JobCounter interface {
	// CountJobs returns the counts of each job type that has any jobs.
	// EUnavailable if the queue's storage does not answer.
	CountJobs(ctx context.Context) (map[string]JobCounts, error)
}
