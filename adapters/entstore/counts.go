package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/instance"
	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ports"
)

// statusCounts answers the metrics' counts, across subscriptions on
// purpose.
type statusCounts struct{ s *conn }

var _ ports.StatusCounts = (*statusCounts)(nil)

// StatusCounts returns the system-wide counts GET /metrics reports.
func (s *Store) StatusCounts() ports.StatusCounts { return &statusCounts{s.pool} }

// statusCount is one row of a GROUP BY status.
type statusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// CountInstancesByStatus is one GROUP BY over the instances, which the
// index on status serves; the table holds at most a few per tenant.
func (c *statusCounts) CountInstancesByStatus(ctx context.Context) (map[ports.InstanceStatus]int, error) {
	var rows []statusCount
	err := c.s.client.Instance.Query().
		GroupBy(instance.FieldStatus).
		Aggregate(ent.Count()).
		Scan(ctx, &rows)
	if err != nil {
		return nil, dbError("count instances by status", "instance", err)
	}
	counts := make(map[ports.InstanceStatus]int, len(rows))
	for _, r := range rows {
		counts[ports.InstanceStatus(r.Status)] = r.Count
	}
	return counts, nil
}

// CountMessagesByStatus counts only the rows in statuses, a range of the
// (status, updated_at) index: the history of delivered and read messages,
// which grows without bound, is not read.
func (c *statusCounts) CountMessagesByStatus(ctx context.Context, statuses ...ports.MessageStatus) (map[ports.MessageStatus]int, error) {
	counts := make(map[ports.MessageStatus]int, len(statuses))
	if len(statuses) == 0 {
		return counts, nil
	}
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	var rows []statusCount
	err := c.s.client.Message.Query().
		Where(message.StatusIn(names...)).
		GroupBy(message.FieldStatus).
		Aggregate(ent.Count()).
		Scan(ctx, &rows)
	if err != nil {
		return nil, dbError("count messages by status", "message", err)
	}
	for _, r := range rows {
		counts[ports.MessageStatus(r.Status)] = r.Count
	}
	return counts, nil
}
