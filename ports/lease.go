package ports

import (
	"context"
	"time"
)

// NodeID names one running wagate process (WAGATE_NODE_ID).
type NodeID string

// NodeRetention is how long a silent node is remembered.
const NodeRetention = 24 * time.Hour

// Lease is a node's hold on an instance's WhatsApp connection: only the
// node named holds it, and only until ExpiresAt unless it renews. Epoch
// grows by one each time the lease changes node, so that an owner can tell
// a lease it kept from one it lost and got back.
type Lease struct {
	Instance  InstanceID
	Node      NodeID
	ExpiresAt time.Time
	Epoch     int64
}

// LeaseStore keeps the nodes' heartbeats and the instance leases, shared
// by every node of a deployment. Times come from the caller, so that every
// comparison uses the calling node's clock and tests can move it.
type LeaseStore interface {
	// Heartbeat records that node was last alive at now; the first call
	// also records now as its start. A node that stops records the zero
	// time, which no LiveNodes call counts. Nodes silent for NodeRetention
	// before now are forgotten (restarted pods get new names).
	Heartbeat(ctx context.Context, node NodeID, now time.Time) error
	// LiveNodes returns the nodes whose last heartbeat is after since, in
	// name order.
	LiveNodes(ctx context.Context, since time.Time) ([]NodeID, error)
	// Claim gives node the lease of id until expires when nobody holds it,
	// when its holder let it expire (ExpiresAt not after now), or when node
	// holds it already (then it is a renewal). EConflict when another node
	// holds it. Of concurrent claims of a free lease, exactly one wins.
	Claim(ctx context.Context, id InstanceID, node NodeID, now, expires time.Time) (Lease, error)
	// Renew extends to expires those of ids whose lease node still holds
	// unexpired at now, and returns them; the others are lost (expired, or
	// taken by another node) and are left out.
	Renew(ctx context.Context, node NodeID, ids []InstanceID, now, expires time.Time) ([]InstanceID, error)
	// Release ends node's lease of id at once, so that another node may
	// claim it. Not an error when node does not hold it.
	Release(ctx context.Context, id InstanceID, node NodeID, now time.Time) error
	// Leases returns every lease unexpired at now, expired ones left out.
	Leases(ctx context.Context, now time.Time) ([]Lease, error)
}

// WAReleaser is an optional capability of a WhatsApp adapter: close an
// instance's connection in this process without any status event, so that
// its stored status stays what it was for the node that takes it over.
// Not an error when the instance has no connection here.
type WAReleaser interface {
	Release(ctx context.Context, id InstanceID) error
}
