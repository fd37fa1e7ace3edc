package ports

import (
	"context"
	"time"
)

// BulkID identifies a bulk send (SPEC §8).
type BulkID string

// BulkStatus is where a bulk send stands.
type BulkStatus string

// The bulk statuses. A bulk is scheduled until its start time, running
// while it sends, paused by its owner, and ends completed (every recipient
// sent or failed) or cancelled.
const (
	BulkScheduled BulkStatus = "scheduled"
	BulkRunning   BulkStatus = "running"
	BulkPaused    BulkStatus = "paused"
	BulkCompleted BulkStatus = "completed"
	BulkCancelled BulkStatus = "cancelled"
)

// Bulk is a bulk send of one instance. Its recipients are messages with
// BulkID set (Message.BulkSeq their place, 0..Total-1); their statuses are
// the bulk's progress. Generation names the bulk's current step: each step
// of its run, each resume and each relay of a lost run moves it on, and a
// step job of another generation does nothing, so that one bulk never has
// two runs sending at once.
type Bulk struct {
	ID             BulkID
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	Status         BulkStatus
	TemplateID     TemplateID // empty for a text bulk
	Text           string     // the text of a text bulk
	Total          int
	// PacingMin and PacingMax bound the pause between two sends (a random
	// value in between).
	PacingMin, PacingMax time.Duration
	Generation           int
	ScheduledAt          *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
	StartedAt            *time.Time
	CompletedAt          *time.Time
}

// BulkCounts are a bulk's recipients by the current status of their
// message; Queued includes sending. They add up to the bulk's total.
type BulkCounts struct {
	Queued, Sent, Delivered, Read, Failed int
}

// BulkSummary is a bulk with its progress: what GET /bulk/{id} answers and
// the data of bulk.status.
type BulkSummary struct {
	Bulk
	Counts BulkCounts
}

// BulkStore keeps bulk sends and reads their recipients' messages.
type BulkStore interface {
	// CreateBulk stores b and its recipients' messages (each with BulkID
	// b.ID), in batches; call it inside a transaction so that a bulk never
	// exists half written. EConflict if an id exists.
	CreateBulk(ctx context.Context, sub SubscriptionID, b Bulk, recipients []Message) error
	// GetBulk returns ENotFound if missing or another tenant's.
	GetBulk(ctx context.Context, sub SubscriptionID, id BulkID) (Bulk, error)
	// UpdateBulk loads the bulk under a lock, applies fn and saves its
	// status, generation, updated, started and completed times. ENotFound
	// if missing; fn's error aborts the update and is returned.
	UpdateBulk(ctx context.Context, sub SubscriptionID, id BulkID, fn func(*Bulk) error) (Bulk, error)
	// CountBulk counts the bulk's messages by status (see BulkCounts).
	CountBulk(ctx context.Context, sub SubscriptionID, id BulkID) (BulkCounts, error)
	// NextRecipient returns the bulk's message with the lowest BulkSeq that
	// is queued or sending (the run's next send, or a claim to wait for or
	// to take over once stale). ENotFound if there is none.
	NextRecipient(ctx context.Context, sub SubscriptionID, id BulkID) (Message, error)
	// FailQueued moves every queued message of the bulk to failed with the
	// error code and message, updated at at, in one statement; it returns
	// how many moved.
	FailQueued(ctx context.Context, sub SubscriptionID, id BulkID, code, msg string, at time.Time) (int, error)
	// ListBulkMessages pages through the bulk's messages in BulkSeq order.
	// EInvalid for a cursor the store did not make.
	ListBulkMessages(ctx context.Context, sub SubscriptionID, id BulkID, page PageRequest) (Page[Message], error)
}

// BulkBacklog is the system-level view of running bulks, across every
// subscription, for the relay that restarts runs whose step job went
// missing (a queue that lost its data).
type BulkBacklog interface {
	// ListIdleBulks returns up to limit bulks that are running or
	// scheduled and were last updated before olderThan, oldest first.
	ListIdleBulks(ctx context.Context, olderThan time.Time, limit int) ([]Bulk, error)
}
