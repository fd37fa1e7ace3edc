package coretest

import (
	"context"
	"slices"

	"github.com/wagate/wagate/ports"
)

var _ ports.InstanceDirectory = view{}

// Directory returns the system-level view of instances, for use outside
// transactions.
func (s *Store) Directory() ports.InstanceDirectory { return view{s: s} }

// ListInstancesByStatus pages through the instances of every subscription
// in one of statuses, oldest first.
func (v view) ListInstancesByStatus(_ context.Context, statuses []ports.InstanceStatus, page ports.PageRequest) (ports.Page[ports.Instance], error) {
	d, done, err := v.enter("ListInstancesByStatus")
	if err != nil {
		return ports.Page[ports.Instance]{}, err
	}
	defer done()
	var match []ports.Instance
	for _, i := range d.instances {
		if slices.Contains(statuses, i.Status) {
			match = append(match, cloneInstance(i))
		}
	}
	slices.SortFunc(match, func(a, b ports.Instance) int {
		return byAge(a.CreatedAt, b.CreatedAt, string(a.ID), string(b.ID))
	})
	return pageOf(match, func(i ports.Instance) string { return string(i.ID) }, page)
}

// LookupInstance returns the instance whatever its subscription.
func (v view) LookupInstance(_ context.Context, id ports.InstanceID) (ports.Instance, error) {
	d, done, err := v.enter("LookupInstance")
	if err != nil {
		return ports.Instance{}, err
	}
	defer done()
	i, ok := d.instances[id]
	if !ok {
		return ports.Instance{}, notFound("instance")
	}
	return cloneInstance(i), nil
}
