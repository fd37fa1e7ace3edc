package ports

import (
	"context"
	"io"
	"time"
)

// The data export of SPEC §18: a ZIP of a subscription's data, written by a
// queue job, kept for a while, then purged.

// ExportID identifies an export.
type ExportID string

// ExportStatus is where an export stands.
type ExportStatus string

// The export statuses.
const (
	ExportPending   ExportStatus = "pending"   // the job has not started
	ExportRunning   ExportStatus = "running"   // the job is writing the file
	ExportCompleted ExportStatus = "completed" // the file is ready to download
	ExportFailed    ExportStatus = "failed"    // the job gave up; no file
)

// Export is one export of a subscription's data.
type Export struct {
	ID             ExportID
	SubscriptionID SubscriptionID
	RequestedBy    UserID
	Status         ExportStatus
	SizeBytes      int64  // the file's size, once completed
	Error          string // why it failed; never personal data
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time
	ExpiresAt      time.Time
}

// ExportStore keeps the export rows.
type ExportStore interface {
	// CreateExport inserts e; EConflict with reason export_running if the
	// subscription has a pending or running export already.
	CreateExport(ctx context.Context, e Export) error
	// GetExport returns an export; ENotFound if missing or another
	// tenant's.
	GetExport(ctx context.Context, sub SubscriptionID, id ExportID) (Export, error)
	// ListExports pages the subscription's exports, newest first.
	ListExports(ctx context.Context, sub SubscriptionID, page PageRequest) (Page[Export], error)
	// UpdateExport applies fn to the export and stores the result;
	// ENotFound if the export is gone (deleted by an erasure or a
	// closing meanwhile). Only the status, size, error, completion and
	// expiry are stored.
	UpdateExport(ctx context.Context, sub SubscriptionID, id ExportID, fn func(*Export) error) error
	// ExpiredExports returns at most limit exports of any subscription
	// that expired before before, oldest first.
	ExpiredExports(ctx context.Context, before time.Time, limit int) ([]Export, error)
	// DeleteExports deletes the given exports of sub; it returns how many
	// went. Missing ones are not an error.
	DeleteExports(ctx context.Context, sub SubscriptionID, ids []ExportID) (int, error)
}

// ExportSection names one kind of data an export holds, and the JSON
// Lines file it goes to.
type ExportSection string

// The sections, in the order an export writes them.
const (
	ExportMembers    ExportSection = "members"
	ExportInstances  ExportSection = "instances"  // without credentials
	ExportAPIKeys    ExportSection = "api_keys"   // without secrets
	ExportMessages   ExportSection = "messages"   //
	ExportMedia      ExportSection = "media"      // the files' metadata; the files go under media/
	ExportTemplates  ExportSection = "templates"  //
	ExportBulks      ExportSection = "bulks"      //
	ExportWebhooks   ExportSection = "webhooks"   // without secrets
	ExportDeliveries ExportSection = "deliveries" //
	ExportAudit      ExportSection = "audit_log"  //
	ExportStats      ExportSection = "stats"      // daily counts
)

// ExportSections lists every section, in the order an export writes them
// (a function: no package-level state a caller could change).
func ExportSections() []ExportSection {
	return []ExportSection{
		ExportMembers, ExportInstances, ExportAPIKeys, ExportMessages, ExportMedia,
		ExportTemplates, ExportBulks, ExportWebhooks, ExportDeliveries, ExportAudit, ExportStats,
	}
}

// ExportField is one named value of an exported row. Value is nil, a
// string, int64, float64, bool, time.Time or json.RawMessage (a JSON
// column, kept as the document it is).
type ExportField struct {
	Name  string
	Value any
}

// ExportRow is one exported row, its fields in a stable order.
type ExportRow struct {
	// Key is the row's keyset cursor: pass the last row's Key as after
	// for the next page. In the media section it is the message id.
	Key    string
	Fields []ExportField
}

// ExportSource reads a subscription's data for an export, a page at a
// time, so that an export holds one page in memory however large the
// subscription.
type ExportSource interface {
	// ExportPage returns up to limit rows of the section that come after
	// the row whose Key is after ("" for the first page), in key order;
	// fewer than limit means the end. Secrets are never among the fields:
	// each section reads an explicit list of columns. EInvalid for an
	// unknown section.
	ExportPage(ctx context.Context, sub SubscriptionID, s ExportSection, after string, limit int) ([]ExportRow, error)
	// CopyMedia writes the file of a message to w, a chunk at a time; it
	// returns the bytes written. ENotFound if the message has no file or
	// is another tenant's.
	CopyMedia(ctx context.Context, sub SubscriptionID, id MessageID, w io.Writer) (int64, error)
}

// ExportFiles keeps the export files.
type ExportFiles interface {
	// Create starts the file of an export afresh (a partial file of an
	// earlier run is discarded). Nothing is visible to Open until the
	// returned file is committed.
	Create(id ExportID) (ExportFileWriter, error)
	// Open returns the committed file; ENotFound if there is none.
	Open(id ExportID) (io.ReadSeekCloser, error)
	// Remove deletes the file and any partial one; not an error if there
	// is none.
	Remove(id ExportID) error
}

// ExportFileWriter is a file being written.
type ExportFileWriter interface {
	io.Writer
	// Commit makes the file durable and visible to Open, atomically; it
	// returns its size.
	Commit() (int64, error)
	// Abort discards the partial file. Safe after Commit (it does
	// nothing then).
	Abort()
}
