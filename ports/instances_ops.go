package ports

import "context"

// InstanceDirectory is the system-level view of instances, across every
// subscription. Unlike InstanceStore it takes no subscription id: it is for
// what the server does on its own account (reconnecting instances at start,
// routing a WhatsApp event to its tenant), never for a caller's request,
// where a tenant's InstanceStore call keeps tenants apart.
type InstanceDirectory interface {
	// ListInstancesByStatus pages through the instances of every
	// subscription whose status is one of statuses, oldest first. No
	// statuses: an empty page.
	ListInstancesByStatus(ctx context.Context, statuses []InstanceStatus, page PageRequest) (Page[Instance], error)
	// LookupInstance returns the instance with id whatever its
	// subscription; ENotFound if there is none.
	LookupInstance(ctx context.Context, id InstanceID) (Instance, error)
}
