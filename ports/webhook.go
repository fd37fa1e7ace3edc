package ports

import (
	"context"
	"time"
)

// WebhookID names a webhook endpoint.
type WebhookID string

// DeliveryID names one delivery: one event for one endpoint.
type DeliveryID string

// WebhookEndpoint is a URL that receives an instance's events (SPEC §9).
// The secrets are kept as they sign (whsec_…): they leave the API only when
// created or rotated.
type WebhookEndpoint struct {
	ID             WebhookID
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	URL            string
	Events         []string // event types, or ["*"]
	Description    string
	Enabled        bool
	Secret         string
	PreviousSecret string    // "" if never rotated
	RotatedAt      time.Time // zero if never rotated
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastSuccessAt  *time.Time
	FirstFailureAt *time.Time // start of the current run of failures; nil when not failing
	DisabledReason string     // why the system disabled it; "" otherwise
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliveryDelivered DeliveryStatus = "delivered" // a 2xx answer
	DeliveryFailed    DeliveryStatus = "failed"    // not retried: the endpoint is gone or disabled
	DeliveryDead      DeliveryStatus = "dead"      // the retry schedule is used up; replayable
)

// WebhookDelivery is one event for one endpoint. Payload is the envelope's
// JSON, fixed when the event fans out, so that every attempt sends the same
// bytes.
type WebhookDelivery struct {
	ID             DeliveryID
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	EndpointID     WebhookID
	EventID        string
	EventType      EventType
	Payload        []byte
	Status         DeliveryStatus
	Attempts       int
	LastStatusCode int    // 0 when no answer came
	LastError      string // "" after a success
	LastResponse   string // the first 1 KB of the last answer's body
	LatencyMS      int64  // of the last attempt
	NextAttemptAt  *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookStore keeps webhook endpoints. Deleting an endpoint deletes its
// deliveries.
type WebhookStore interface {
	// CreateWebhook stores w; EConflict if the id exists.
	CreateWebhook(ctx context.Context, sub SubscriptionID, w WebhookEndpoint) error
	// GetWebhook returns ENotFound if missing or another tenant's.
	GetWebhook(ctx context.Context, sub SubscriptionID, id WebhookID) (WebhookEndpoint, error)
	// ListWebhooks returns every endpoint of an instance, oldest first (an
	// instance has few: the core caps them).
	ListWebhooks(ctx context.Context, sub SubscriptionID, inst InstanceID) ([]WebhookEndpoint, error)
	// UpdateWebhook loads the endpoint under a lock, applies fn and saves
	// it. ENotFound if missing; fn's error aborts the update and is returned.
	UpdateWebhook(ctx context.Context, sub SubscriptionID, id WebhookID, fn func(*WebhookEndpoint) error) (WebhookEndpoint, error)
	// DeleteWebhook removes the endpoint and its deliveries; ENotFound if missing.
	DeleteWebhook(ctx context.Context, sub SubscriptionID, id WebhookID) error
}

// DeliveryStore keeps webhook deliveries.
type DeliveryStore interface {
	// CreateDelivery stores d; EConflict if the id exists.
	CreateDelivery(ctx context.Context, sub SubscriptionID, d WebhookDelivery) error
	// CreateDeliveries stores ds, all of sub, in a few multi-row
	// statements (a dispatch writes hundreds at once); EConflict if an id
	// exists or an event already has a delivery to the endpoint, and then
	// the caller's transaction must roll back, as some rows may be written.
	CreateDeliveries(ctx context.Context, sub SubscriptionID, ds []WebhookDelivery) error
	// GetDelivery returns ENotFound if missing or another tenant's.
	GetDelivery(ctx context.Context, sub SubscriptionID, id DeliveryID) (WebhookDelivery, error)
	// ListDeliveries pages through one endpoint's deliveries, newest first.
	ListDeliveries(ctx context.Context, sub SubscriptionID, endpoint WebhookID, page PageRequest) (Page[WebhookDelivery], error)
	// UpdateDelivery loads the delivery under a lock, applies fn and saves
	// it; the lock makes it the claim of an attempt. ENotFound if missing;
	// fn's error aborts the update and is returned.
	UpdateDelivery(ctx context.Context, sub SubscriptionID, id DeliveryID, fn func(*WebhookDelivery) error) (WebhookDelivery, error)
	DeliveryAttempts
}

// DeliveryAttempts is the delivery path's part of the DeliveryStore. Each
// method is one statement, with no transaction around it: an attempt costs
// its claim, its record and a share of a batch read, where a locked
// read-modify-write costs four round trips per step.
type DeliveryAttempts interface {
	// DueDeliveries returns up to limit of the endpoint's pending
	// deliveries whose next attempt is due at or before now, oldest
	// (smallest id: ids sort in creation order) first; empty if none.
	DueDeliveries(ctx context.Context, sub SubscriptionID, endpoint WebhookID, now time.Time, limit int) ([]WebhookDelivery, error)
	// ClaimDelivery counts the attempt c describes, if the delivery is
	// still pending with c.Attempts attempts made and its endpoint is
	// enabled and unchanged since c.EndpointVersion (its UpdatedAt as the
	// claimer read it): attempts becomes c.Attempts+1, UpdatedAt c.At and
	// NextAttemptAt c.LeaseEnd. It reports whether it claimed; a condition
	// that fails (a missing row included) is false, not an error.
	ClaimDelivery(ctx context.Context, sub SubscriptionID, c DeliveryClaim) (bool, error)
	// ClaimDeliveries is ClaimDelivery for each of ids at once, all with
	// c's endpoint, attempt count, version and times (c.ID is ignored), in
	// one statement. It returns the ids it claimed, in no order; an id
	// whose condition fails is left out, not an error.
	ClaimDeliveries(ctx context.Context, sub SubscriptionID, c DeliveryClaim, ids []DeliveryID) ([]DeliveryID, error)
	// SaveAttempt writes d's status, attempts, log fields, NextAttemptAt
	// and UpdatedAt, if the delivery is still pending with was attempts
	// made (no other claim came in between). It reports whether it wrote.
	SaveAttempt(ctx context.Context, sub SubscriptionID, d WebhookDelivery, was int) (bool, error)
}

// DeliveryClaim is one attempt's claim of a delivery (see ClaimDelivery).
type DeliveryClaim struct {
	ID              DeliveryID
	Endpoint        WebhookID
	Attempts        int       // attempts made before this one
	EndpointVersion time.Time // the endpoint's UpdatedAt as the claimer read it
	At, LeaseEnd    time.Time
}

// DeliveryOutbox is the system-level view of webhooks, across every
// subscription, for the periodic passes: the relay that re-enqueues the
// jobs of deliveries left behind, and the sweep that disables endpoints
// failing for too long.
type DeliveryOutbox interface {
	// ListDue returns up to limit pending deliveries whose next attempt was
	// due before dueBefore, oldest due first.
	ListDue(ctx context.Context, dueBefore time.Time, limit int) ([]WebhookDelivery, error)
	// ListFailing returns up to limit enabled endpoints whose current run
	// of failures began at or before since, longest failing first.
	ListFailing(ctx context.Context, since time.Time, limit int) ([]WebhookEndpoint, error)
}
