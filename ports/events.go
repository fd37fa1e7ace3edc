package ports

import (
	"context"
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

// Event is something that happened on an instance, as webhooks and the
// realtime stream carry it. Data is one of the *Data types below (or, for
// message events, the types of later modules).
type Event struct {
	ID             string // evt_…
	Type           EventType
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	At             time.Time
	Data           any
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
