package exports

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// Register registers the export job with a runner. One export at a time
// per runner: an export is long and reads the whole database; the queue
// keeps the others waiting.
func (s *Service) Register(r ports.Runner) {
	r.Handle(JobRun, s.HandleRun, ports.HandlerOptions{Concurrency: 1})
}

// HandleRun writes an export. The file is written under a temporary name
// and committed (renamed) only when whole; a run that crashed or was
// abandoned leaves the export running, and the queue runs it again from
// the start. An export deleted meanwhile (an erasure, a closing) is left
// alone, and a file written for it is removed.
func (s *Service) HandleRun(ctx context.Context, d ports.Delivery) error {
	var job runJob
	if err := json.Unmarshal(d.Payload, &job); err != nil || job.Sub == "" || job.ID == "" {
		return ports.Errorf(ports.EInvalid, "export job %s: bad payload", d.ID)
	}
	var started bool
	err := s.d.Exports.UpdateExport(ctx, job.Sub, job.ID, func(e *ports.Export) error {
		if e.Status != ports.ExportPending && e.Status != ports.ExportRunning {
			return nil
		}
		started = true
		e.Status, e.UpdatedAt = ports.ExportRunning, s.d.Clock.Now()
		return nil
	})
	if ports.IsCode(err, ports.ENotFound) || (err == nil && !started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start export %s: %w", job.ID, err)
	}
	begin := time.Now()
	counts, size, err := s.write(ctx, job.Sub, job.ID)
	if err != nil {
		if ctx.Err() != nil {
			return err // abandoned: the queue runs it again
		}
		if r := ports.RetryFor(err); r.Retry && d.Attempt < runAttempts {
			return err
		}
		s.d.Log.Error("export failed", "export", string(job.ID), "attempt", d.Attempt, "err", err)
		s.fail(ctx, job.Sub, job.ID, "the export could not be written")
		return nil
	}
	now := s.d.Clock.Now()
	err = s.d.Exports.UpdateExport(ctx, job.Sub, job.ID, func(e *ports.Export) error {
		e.Status, e.SizeBytes, e.Error = ports.ExportCompleted, size, ""
		e.UpdatedAt, e.CompletedAt, e.ExpiresAt = now, &now, now.Add(Keep)
		return nil
	})
	if ports.IsCode(err, ports.ENotFound) {
		return s.d.Files.Remove(job.ID)
	}
	if err != nil {
		return fmt.Errorf("complete export %s: %w", job.ID, err)
	}
	s.d.Log.Info("export completed", "export", string(job.ID), "bytes", size,
		"messages", counts[ports.ExportMessages], "media", counts[ports.ExportMedia], "took", time.Since(begin))
	return nil
}

// purgeBatch bounds the exports one purge step deletes.
const purgeBatch = 100

// Purge deletes the expired exports, files first, then their rows: a
// crash between the two leaves a row whose file is gone, which the next
// pass deletes. It returns how many went.
func (s *Service) Purge(ctx context.Context) (int, error) {
	total := 0
	for {
		expired, err := s.d.Exports.ExpiredExports(ctx, s.d.Clock.Now(), purgeBatch)
		if err != nil {
			return total, fmt.Errorf("list expired exports: %w", err)
		}
		bySub := map[ports.SubscriptionID][]ports.ExportID{}
		for _, e := range expired {
			if err := s.d.Files.Remove(e.ID); err != nil {
				return total, fmt.Errorf("remove export file %s: %w", e.ID, err)
			}
			bySub[e.SubscriptionID] = append(bySub[e.SubscriptionID], e.ID)
		}
		for sub, ids := range bySub {
			n, err := s.d.Exports.DeleteExports(ctx, sub, ids)
			total += n
			if err != nil {
				return total, err
			}
		}
		if len(expired) < purgeBatch {
			return total, nil
		}
	}
}

// DeleteAll deletes every export of a subscription, files and rows. An
// erasure calls it because an existing export holds the erased person's
// data, and deleting the subscription's exports is simpler and surer than
// rewriting ZIPs; a closing calls it because the files are not rows the
// closing's wipe would reach. An export running meanwhile finds its row
// gone when it completes and removes its file.
func (s *Service) DeleteAll(ctx context.Context, sub ports.SubscriptionID) (int, error) {
	var ids []ports.ExportID
	page := ports.PageRequest{Limit: ports.MaxPageLimit}
	for {
		got, err := s.d.Exports.ListExports(ctx, sub, page)
		if err != nil {
			return 0, fmt.Errorf("list exports: %w", err)
		}
		for _, e := range got.Items {
			ids = append(ids, e.ID)
		}
		if got.Next == "" {
			break
		}
		page.After = got.Next
	}
	for _, id := range ids {
		if err := s.d.Files.Remove(id); err != nil {
			return 0, fmt.Errorf("remove export file %s: %w", id, err)
		}
	}
	return s.d.Exports.DeleteExports(ctx, sub, ids)
}
