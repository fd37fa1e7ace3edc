package ports

import (
	"context"
	"slices"
)

// EventQuery selects part of a subscription's event log: the positions
// after After and, when Until is set, at most Until; an empty InstanceID or
// Types matches all.
type EventQuery struct {
	After      int64
	Until      int64 // 0: up to the end
	InstanceID InstanceID
	Types      []EventType
	Limit      int
}

// EventReader reads the event log back for clients catching up with what
// they missed (SPEC §10: GET /events?after=, the stream's replay).
type EventReader interface {
	// ListEvents returns up to q.Limit of the subscription's events that
	// match q, in position order.
	ListEvents(ctx context.Context, sub SubscriptionID, q EventQuery) ([]Event, error)
	// GetEvent returns the subscription's event of that id. ENotFound if
	// the subscription has no such event: it never existed, it is another
	// subscription's, or it was purged.
	GetEvent(ctx context.Context, sub SubscriptionID, id string) (Event, error)
	// OldestEvent returns the subscription's kept event of the lowest
	// position; ENotFound when it keeps none.
	OldestEvent(ctx context.Context, sub SubscriptionID) (Event, error)
}

// Matches reports whether e passes f.
func (f EventFilter) Matches(e Event) bool {
	if e.SubscriptionID != f.SubscriptionID || (f.InstanceID != "" && e.InstanceID != f.InstanceID) {
		return false
	}
	return len(f.Types) == 0 || slices.Contains(f.Types, e.Type)
}
