package coretest

import (
	"context"
	"slices"
	"sync"

	"github.com/wagate/wagate/ports"
)

var _ ports.Queue = (*Queue)(nil)

// Queue is a ports.Queue that holds jobs until a test takes one and runs
// it by hand, so that a test decides the order and can lose or replace
// jobs as a real queue might. Like the real queues it refuses the id of a
// job still pending (EConflict). The zero Queue is ready to use.
type Queue struct {
	mu   sync.Mutex
	jobs []ports.Job // oldest first
}

// Enqueue holds j; EConflict if a job with its id is pending.
func (q *Queue) Enqueue(_ context.Context, j ports.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.index(j.ID) >= 0 {
		return ports.Errorf(ports.EConflict, "job exists")
	}
	q.jobs = append(q.jobs, j)
	return nil
}

// Jobs returns the pending jobs, oldest first.
func (q *Queue) Jobs() []ports.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.jobs)
}

// Len is the number of pending jobs.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.jobs)
}

// Job returns the pending job id, leaving it queued.
func (q *Queue) Job(id string) (ports.Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := q.index(id); i >= 0 {
		return q.jobs[i], true
	}
	return ports.Job{}, false
}

// Take removes and returns the pending job id: a worker picked it up, or
// the queue lost it.
func (q *Queue) Take(id string) (ports.Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.index(id)
	if i < 0 {
		return ports.Job{}, false
	}
	j := q.jobs[i]
	q.jobs = slices.Delete(q.jobs, i, i+1)
	return j, true
}

// TakeOldest removes and returns the oldest pending job.
func (q *Queue) TakeOldest() (ports.Job, bool) { return q.takeAt(0) }

// TakeNewest removes and returns the newest pending job, as a queue
// running jobs in parallel may well start it first.
func (q *Queue) TakeNewest() (ports.Job, bool) { return q.takeAt(-1) }

// Put holds j, replacing a pending job with its id: a test puts back a
// job it took, or one the queue should have had.
func (q *Queue) Put(j ports.Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := q.index(j.ID); i >= 0 {
		q.jobs[i] = j
		return
	}
	q.jobs = append(q.jobs, j)
}

// takeAt removes the job at i, counted from the end when negative.
func (q *Queue) takeAt(i int) (ports.Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 {
		return ports.Job{}, false
	}
	if i < 0 {
		i += len(q.jobs)
	}
	j := q.jobs[i]
	q.jobs = slices.Delete(q.jobs, i, i+1)
	return j, true
}

// index is the position of the pending job id, -1 if none. Caller holds mu.
func (q *Queue) index(id string) int {
	return slices.IndexFunc(q.jobs, func(j ports.Job) bool { return j.ID == id })
}
