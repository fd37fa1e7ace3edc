package asynqueue

import (
	"context"

	"github.com/wagate/wagate/ports"
)

var _ ports.JobCounter = (*Queue)(nil)

// CountJobs counts the tasks of each of this prefix's queues by state; see
// ports.JobCounter. Pending (and aggregating) tasks are ready, scheduled
// ones and retries delayed, active ones running and archived ones dead.
// It asks Redis a few questions per queue, and there is one queue per job
// type.
func (q *Queue) CountJobs(ctx context.Context) (map[string]ports.JobCounts, error) {
	infos, err := q.queueInfos(ctx, "count jobs")
	if err != nil {
		return nil, err
	}
	counts := map[string]ports.JobCounts{}
	for typ, info := range infos {
		counts[typ] = ports.JobCounts{
			Ready:   info.Pending + info.Aggregating,
			Delayed: info.Scheduled + info.Retry,
			Running: info.Active,
			Dead:    info.Archived,
		}
	}
	return counts, nil
}
