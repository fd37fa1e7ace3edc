package ports

import (
	"context"
	"encoding/json"
	"time"
)

// EventType names an event (SPEC §10).
type EventType string

// The event types.
const (
	EventInstanceStatus  EventType = "instance.status"
	EventInstanceQR      EventType = "instance.qr"
	EventMessageReceived EventType = "message.received"
	EventMessageStatus   EventType = "message.status"
	EventBulkStatus      EventType = "bulk.status"
	EventWebhookTest     EventType = "webhook.test"
)

// Event is something that happened on an instance, as the event log keeps
// it and webhooks and the realtime stream carry it. Data is the JSON of
// the envelope's "data" member, encoded once when the event is appended
// (EventLog.Append), so that every reader sends the same bytes.
type Event struct {
	ID             string // evt_…
	Type           EventType
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	At             time.Time
	Data           json.RawMessage
	// Position orders a subscription's events: 1, 2, 3, … without gaps, in
	// commit order. Zero until the event is appended.
	Position int64
}

// InstanceStatusData is the data of instance.status.
type InstanceStatusData struct {
	Status         InstanceStatus
	PreviousStatus InstanceStatus
	Reason         string
}

// InstanceQRData is the data of instance.qr.
type InstanceQRData struct {
	QR        string
	Attempt   int
	ExpiresAt time.Time
}

// EventFilter selects events for a subscriber. SubscriptionID is required;
// an empty InstanceID or Types matches all.
type EventFilter struct {
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	Types          []EventType
}

// EventBus fans events out to realtime subscribers: in-process on one node,
// through Redis across nodes.
type EventBus interface {
	// Publish hands the event to every matching subscriber. It never waits
	// for a slow subscriber: one that cannot keep up loses events (and is
	// told by its channel closing, so the client can reconnect).
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a channel of matching events until ctx ends; then the
	// channel is closed. EInvalid without a SubscriptionID.
	Subscribe(ctx context.Context, f EventFilter) (<-chan Event, error)
}

// EventCursor is where a subscription's event log stands: Appended is the
// position of its last event, Dispatched that of the last one handed to
// webhooks and the realtime bus.
type EventCursor struct {
	Appended   int64
	Dispatched int64
}

// EventStore is the event log: every event, appended in the transaction
// of the change it reports, read back in order by the dispatcher.
type EventStore interface {
	// AppendEvent stores e at its subscription's next position. Inside a
	// transaction the store may hand the position out only at commit (and
	// return 0): it holds the subscription's counter from the position's
	// hand-out until commit, so positions commit in order and a reader
	// that has seen position n has seen every position before it.
	// Outside a transaction it returns the position. EConflict if the id
	// exists (at the latest, from the commit).
	AppendEvent(ctx context.Context, e Event) (int64, error)
	// ListEventsAfter returns up to limit of the subscription's events
	// whose position is greater than after, in position order.
	ListEventsAfter(ctx context.Context, sub SubscriptionID, after int64, limit int) ([]Event, error)
	// GetEventCursor returns the subscription's cursor; the zero cursor for
	// a subscription without events.
	GetEventCursor(ctx context.Context, sub SubscriptionID) (EventCursor, error)
	// AdvanceEventCursor moves Dispatched from from to to, only if it is
	// still from: EConflict otherwise (another dispatcher got there first).
	AdvanceEventCursor(ctx context.Context, sub SubscriptionID, from, to int64) error
}

// EventBacklog is the system-level view of the event log, across every
// subscription, for the periodic passes.
type EventBacklog interface {
	// ListUndispatched returns up to limit subscriptions whose cursor has
	// events not yet dispatched.
	ListUndispatched(ctx context.Context, limit int) ([]SubscriptionID, error)
	// PurgeEvents deletes up to limit events appended before the given
	// time and returns how many went. The cursors stay.
	PurgeEvents(ctx context.Context, before time.Time, limit int) (int, error)
}
