package ports

import (
	"context"
	"log/slog"
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

// EventPublisher announces what a module did: it stamps each event with an
// id and the time and hands it to Bus. The zero Bus drops events, for
// servers and tests without realtime subscribers.
type EventPublisher struct {
	Bus   EventBus
	IDs   IDGen
	Clock Clock
	Log   *slog.Logger
}

// Publish stamps e and hands it to the bus, which never waits. A failure
// loses one realtime event; it is logged, not returned, since what caused
// the event has happened.
func (p EventPublisher) Publish(ctx context.Context, e Event) {
	if p.Bus == nil {
		return
	}
	e.ID = "evt_" + p.IDs.NewID()
	e.At = p.Clock.Now()
	if err := p.Bus.Publish(ctx, e); err != nil {
		p.Log.Warn("publish event", "type", string(e.Type), "instance", string(e.InstanceID), "err", err)
	}
}
