package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/instance"
	"github.com/wagate/wagate/ports"
)

// instanceDirectory answers the system-level instance queries, which cross
// subscriptions on purpose.
type instanceDirectory struct{ s *conn }

var _ ports.InstanceDirectory = (*instanceDirectory)(nil)

// Directory returns the system-level view of instances, outside
// transactions.
func (s *Store) Directory() ports.InstanceDirectory { return &instanceDirectory{s.pool} }

func (d *instanceDirectory) ListInstancesByStatus(ctx context.Context, statuses []ports.InstanceStatus, page ports.PageRequest) (ports.Page[ports.Instance], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Instance]{}, err
	}
	if len(statuses) == 0 {
		return ports.Page[ports.Instance]{Items: []ports.Instance{}}, nil
	}
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	limit := pageLimit(page)
	q := d.s.client.Instance.Query().
		Where(instance.StatusIn(names...)).
		Order(ent.Asc(instance.FieldID)).
		Limit(limit + 1)
	if after != "" {
		q = q.Where(instance.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.Instance]{}, dbError("list instances by status", "instance", err)
	}
	return makePage(rows, limit, toInstance, func(e *ent.Instance) string { return e.ID }), nil
}

func (d *instanceDirectory) LookupInstance(ctx context.Context, id ports.InstanceID) (ports.Instance, error) {
	e, err := d.s.client.Instance.Get(ctx, string(id))
	if err != nil {
		return ports.Instance{}, dbError("look up instance", "instance", err)
	}
	return toInstance(e), nil
}
