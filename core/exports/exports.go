// Package exports is the data export of SPEC §18: a request makes an
// export row and a queue job; the job writes a ZIP of the subscription's
// data as JSON Lines, streamed a page at a time; the file is downloadable
// for Keep, then a periodic purge deletes it with its row.
package exports

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/wagate/wagate/ports"
)

// Keep is how long a finished export is kept (SPEC §18: 24 h). An export
// that never finishes (its job lost with a Redis's data) expires as well,
// which frees the subscription's one export slot.
const Keep = 24 * time.Hour

// JobRun is the job type that writes an export; the job id is the export
// id, so an export is written by one job however often it is enqueued.
const JobRun = "export.run"

// runAttempts is the attempt budget of a job: a database that stays
// unavailable through it fails the export, which the client may request
// again.
const runAttempts = 5

// Deps are the ports the module uses.
type Deps struct {
	Exports ports.ExportStore
	Source  ports.ExportSource
	Files   ports.ExportFiles
	Queue   ports.Queue
	Audit   ports.AuditStore
	Clock   ports.Clock
	IDs     ports.IDGen
	Log     *slog.Logger
}

// Service is the exports module.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// runJob is the payload of JobRun.
type runJob struct {
	Sub ports.SubscriptionID `json:"sub"`
	ID  ports.ExportID       `json:"id"`
}

// Request starts an export of the caller's subscription. EConflict
// (export_running) while another one is pending or running: one at a
// time per subscription keeps a tenant from filling the disk and the
// queue. Audited.
func (s *Service) Request(ctx context.Context, p ports.Principal) (ports.Export, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Export{}, err
	}
	now := s.d.Clock.Now()
	e := ports.Export{
		ID: ports.ExportID(s.d.IDs.NewID()), SubscriptionID: p.SubscriptionID, RequestedBy: p.UserID,
		Status: ports.ExportPending, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(Keep),
	}
	if err := s.d.Exports.CreateExport(ctx, e); err != nil {
		return ports.Export{}, err
	}
	// Audited before the job is queued, so that the export's own audit
	// log holds its request.
	if err := ports.AppendAudit(ctx, s.d.Audit, s.d.IDs, s.d.Clock, p.AuditEntry("export.requested", "export", string(e.ID))); err != nil {
		s.fail(ctx, e.SubscriptionID, e.ID, "the request could not be audited")
		return ports.Export{}, err
	}
	payload, err := json.Marshal(runJob{Sub: e.SubscriptionID, ID: e.ID})
	if err != nil {
		return ports.Export{}, fmt.Errorf("encode export job: %w", err)
	}
	if err := s.d.Queue.Enqueue(ctx, ports.Job{ID: string(e.ID), Type: JobRun, Payload: payload, MaxAttempts: runAttempts}); err != nil {
		// Without its job the export would hold the slot until it
		// expires: fail it now, so that the client can ask again.
		s.fail(ctx, e.SubscriptionID, e.ID, "the export could not be queued")
		return ports.Export{}, fmt.Errorf("enqueue export: %w", err)
	}
	return e, nil
}

// Get returns one of the caller's exports; ENotFound for another
// tenant's.
func (s *Service) Get(ctx context.Context, p ports.Principal, id ports.ExportID) (ports.Export, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Export{}, err
	}
	return s.d.Exports.GetExport(ctx, p.SubscriptionID, id)
}

// List pages the caller's exports, newest first.
func (s *Service) List(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.Export], error) {
	if err := p.RequireUser(); err != nil {
		return ports.Page[ports.Export]{}, err
	}
	return s.d.Exports.ListExports(ctx, p.SubscriptionID, page)
}

// Download opens the file of a completed export for the caller, who must
// close it. ENotFound for another tenant's; ENotFound (export_expired,
// 410) once it expired; EConflict (export_not_ready) while it is pending
// or running, or when it failed. Audited.
func (s *Service) Download(ctx context.Context, p ports.Principal, id ports.ExportID) (ports.Export, io.ReadSeekCloser, error) {
	e, err := s.Get(ctx, p, id)
	if err != nil {
		return e, nil, err
	}
	if !s.d.Clock.Now().Before(e.ExpiresAt) {
		return e, nil, ports.ReasonError(ports.ENotFound, "export_expired", "the export has expired; request a new one")
	}
	if e.Status != ports.ExportCompleted {
		return e, nil, ports.ReasonError(ports.EConflict, "export_not_ready", fmt.Sprintf("the export is %s, not completed", e.Status))
	}
	f, err := s.d.Files.Open(e.ID)
	if ports.IsCode(err, ports.ENotFound) {
		// The row says completed, the directory has no file: the
		// directory is not shared between the nodes.
		return e, nil, fmt.Errorf("export %s: %w", e.ID, ports.Errorf(ports.EUnavailable, "the export file is not reachable from this node"))
	}
	if err != nil {
		return e, nil, err
	}
	if err := ports.AppendAudit(ctx, s.d.Audit, s.d.IDs, s.d.Clock, p.AuditEntry("export.downloaded", "export", string(e.ID))); err != nil {
		f.Close()
		return e, nil, err
	}
	return e, f, nil
}

// fail marks an export failed, logging what goes wrong on the way (the
// caller has an error of its own to report).
func (s *Service) fail(ctx context.Context, sub ports.SubscriptionID, id ports.ExportID, why string) {
	err := s.d.Exports.UpdateExport(ctx, sub, id, func(e *ports.Export) error {
		e.Status, e.Error, e.UpdatedAt = ports.ExportFailed, why, s.d.Clock.Now()
		return nil
	})
	if err != nil && !ports.IsCode(err, ports.ENotFound) {
		s.d.Log.Warn("mark export failed", "export", string(id), "err", err)
	}
}
