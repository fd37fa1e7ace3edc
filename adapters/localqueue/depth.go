package localqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

var _ ports.JobCounter = (*Queue)(nil)

// CountJobs counts the jobs of each type by state, telling pending jobs
// that are due from those waiting for their run-at time; see
// ports.JobCounter. It is one GROUP BY, which the (type, state, run_at)
// index serves: the table holds only the jobs not completed yet and the
// dead ones of the retention period.
func (q *Queue) CountJobs(ctx context.Context) (map[string]ports.JobCounts, error) {
	rows, err := q.db.QueryContext(ctx, q.rebind(`SELECT type,
		CASE WHEN state = ? AND run_at > ? THEN 'delayed' ELSE state END,
		count(*)
		FROM jobs GROUP BY 1, 2`), statePending, time.Now().UTC())
	if err != nil {
		return nil, unavailable("count jobs", err)
	}
	defer rows.Close()
	counts := map[string]ports.JobCounts{}
	for rows.Next() {
		var typ, state string
		var n int
		if err := rows.Scan(&typ, &state, &n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		c := counts[typ]
		switch state {
		case statePending:
			c.Ready += n
		case "delayed":
			c.Delayed += n
		case stateRunning:
			c.Running += n
		case stateDead:
			c.Dead += n
		}
		counts[typ] = c
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("count jobs", err)
	}
	return counts, nil
}
