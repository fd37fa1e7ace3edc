package bulks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// JobStep is the job type of one step of a bulk's run: a step sends
// the bulk's next recipient and enqueues the next step after the bulk's
// pacing. The job id is the bulk id and the generation the step runs
// under; each step moves the generation on before it enqueues the next,
// so that a step that runs twice (a crash after the enqueue), an old run's
// step after a resume, or a run the relay replaced finds another
// generation and does nothing.
const JobStep = "bulk.step"

// bulkJob is the payload of JobStep.
type bulkJob struct {
	Sub ports.SubscriptionID `json:"sub"`
	ID  ports.BulkID         `json:"id"`
	Gen int                  `json:"gen"`
}

// Timings of bulk runs.
const (
	// bulkStepAttempts is the attempt budget of one step: enough for an
	// instance disconnected for about a day at the capped backoff. Past
	// it the relay starts a new run.
	bulkStepAttempts = 3000
	// bulkIdleAfter is how long a running bulk may go untouched past its
	// longest pause before the relay takes its run for lost: more than
	// bulkMaxBackoff, since a step waiting for its instance stamps the
	// bulk each time it runs. It is also how long a run whose step died
	// with its node (SIGKILL) waits before another node restarts it.
	bulkIdleAfter = 45 * time.Second
	// bulkMaxBackoff caps the wait between two runs of a step whose
	// instance is disconnected.
	bulkMaxBackoff = 30 * time.Second
	// bulkTouchEvery is how stale a running bulk's stamp may get before a
	// step renews it: well within bulkIdleAfter.
	bulkTouchEvery = 10 * time.Second
	// bulkRelayBatch bounds the bulks one relay pass looks at.
	bulkRelayBatch = 200
)

// errStepStale ends a step whose bulk moved to another generation or
// status meanwhile.
var errStepStale = errors.New("the bulk's run moved on")

// Register registers the bulk step handler with a runner.
func (s *Service) Register(r ports.Runner) {
	r.Handle(JobStep, s.HandleStep, ports.HandlerOptions{
		Concurrency: s.cfg.Concurrency,
		Backoff:     func(n int) time.Duration { return min(ports.DefaultBackoff(n), bulkMaxBackoff) },
	})
}

// enqueueStep enqueues the step of b's current generation to run at at.
// EConflict means it is there already.
func (s *Service) enqueueStep(ctx context.Context, b ports.Bulk, at time.Time) error {
	payload, err := json.Marshal(bulkJob{Sub: b.SubscriptionID, ID: b.ID, Gen: b.Generation})
	if err != nil {
		return fmt.Errorf("encode bulk job: %w", err)
	}
	return s.d.Queue.Enqueue(ctx, ports.Job{
		ID: string(b.ID) + ":" + strconv.Itoa(b.Generation), Type: JobStep, Payload: payload,
		RunAt: at, MaxAttempts: bulkStepAttempts,
	})
}

// HandleStep runs one step of a bulk: a scheduled bulk that is due
// starts (running); a running one sends its next recipient through the
// send path, holding its instance's turn, then enqueues the next step
// after a pause drawn from the bulk's pacing; a bulk with no recipient
// left completes. A bulk in another status or generation is left alone.
// While the instance is disconnected the step is retried with backoff
// (EUnavailable) and nothing fails; an instance unlinked for good fails
// the recipients left (instance_not_connected) and completes the bulk.
func (s *Service) HandleStep(ctx context.Context, d ports.Delivery) error {
	var job bulkJob
	if err := json.Unmarshal(d.Payload, &job); err != nil || job.Sub == "" || job.ID == "" {
		return ports.Errorf(ports.EInvalid, "bulk job %s: bad payload", d.ID)
	}
	b, err := s.d.Stores.Bulks.GetBulk(ctx, job.Sub, job.ID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get bulk %s: %w", job.ID, err)
	}
	if b.Generation != job.Gen || (b.Status != ports.BulkRunning && b.Status != ports.BulkScheduled) {
		return nil
	}
	now := s.d.Clock.Now()
	if b.Status == ports.BulkScheduled && b.ScheduledAt != nil && now.Before(*b.ScheduledAt) {
		return &ports.Error{Code: ports.ERateLimited, Message: "the bulk is scheduled later", RetryAfter: b.ScheduledAt.Sub(now)}
	}
	turn, err := s.d.Sender.TakeTurn(ctx, b.SubscriptionID, b.InstanceID, "bulk "+string(b.ID))
	if err != nil {
		return err
	}
	next, err := s.stepHolding(ctx, job, b, turn)
	if err != nil || next == nil {
		return err
	}
	// After the turn is given back, so that a next step due at once does
	// not find the instance busy.
	if err := s.enqueueStep(ctx, *next, s.d.Clock.Now().Add(bulkPause(*next))); err != nil && !ports.IsCode(err, ports.EConflict) {
		// The generation moved on: the relay starts the run again.
		s.d.Log.Warn("enqueue bulk step; the bulk relay will retry", "bulk", string(next.ID), "err", err)
	}
	return nil
}

// stepHolding runs the step of b, as loaded for job, while holding the
// instance's turn, and gives it back. It returns the bulk, in its next
// generation, when a next step is due.
func (s *Service) stepHolding(ctx context.Context, job bulkJob, b ports.Bulk, turn *messaging.Turn) (*ports.Bulk, error) {
	defer turn.Release()
	// A scheduled bulk starts under the lock; a running one is stamped
	// for the relay only now and then: a commit is costly, and a pause or
	// resume meanwhile lets at most this one send through (advance then
	// finds the run moved on).
	if b.Status == ports.BulkScheduled || s.d.Clock.Now().Sub(b.UpdatedAt) >= bulkTouchEvery {
		var err error
		b, err = s.touchStep(ctx, job)
		if errors.Is(err, errStepStale) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return s.step(ctx, b, turn)
}

// step sends b's next recipient, or completes b, holding the turn.
func (s *Service) step(ctx context.Context, b ports.Bulk, turn *messaging.Turn) (*ports.Bulk, error) {
	inst, err := s.d.Stores.Instances.GetInstance(ctx, b.SubscriptionID, b.InstanceID)
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return nil, s.endBulk(ctx, b, true)
	case err != nil:
		return nil, fmt.Errorf("get instance: %w", err)
	case inst.Status.Unlinked():
		return nil, s.endBulk(ctx, b, true)
	case inst.Status != ports.StatusConnected:
		// Waiting here rather than in the send path: a recipient queued
		// for hours would fail at once there (the send's MaxAge).
		return nil, ports.Errorf(ports.EUnavailable, "bulk %s: the instance is %s", b.ID, inst.Status)
	}
	m, err := s.d.Stores.Bulks.NextRecipient(ctx, b.SubscriptionID, b.ID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil, s.endBulk(ctx, b, false)
	}
	if err != nil {
		return nil, fmt.Errorf("next recipient of %s: %w", b.ID, err)
	}
	if err := turn.Send(ctx, m); err != nil {
		return nil, err
	}
	next, err := s.advance(ctx, b)
	if errors.Is(err, errStepStale) {
		return nil, nil // paused, cancelled or replaced meanwhile
	}
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// touchStep checks under the bulk's lock that the step's generation is
// still current, starts a scheduled bulk and stamps the bulk, so that the
// relay sees its run alive. errStepStale if the run moved on.
func (s *Service) touchStep(ctx context.Context, job bulkJob) (ports.Bulk, error) {
	started := false
	var b ports.Bulk
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		b, err = st.Bulks.UpdateBulk(ctx, job.Sub, job.ID, func(b *ports.Bulk) error {
			if b.Generation != job.Gen || (b.Status != ports.BulkRunning && b.Status != ports.BulkScheduled) {
				return errStepStale
			}
			now := s.d.Clock.Now()
			if b.Status == ports.BulkScheduled {
				b.Status, b.StartedAt, started = ports.BulkRunning, &now, true
			}
			b.UpdatedAt = now
			return nil
		})
		if err != nil || !started {
			return err
		}
		_, err = s.announce(ctx, st, b)
		return err
	})
	if ports.IsCode(err, ports.ENotFound) {
		return ports.Bulk{}, errStepStale
	}
	if err != nil && !errors.Is(err, errStepStale) {
		return ports.Bulk{}, fmt.Errorf("touch bulk %s: %w", job.ID, err)
	}
	if started {
		s.d.Events.Wake(ctx, job.Sub)
	}
	return b, err
}

// advance moves a running bulk to the next generation for its next step.
func (s *Service) advance(ctx context.Context, b ports.Bulk) (ports.Bulk, error) {
	out, err := s.d.Stores.Bulks.UpdateBulk(ctx, b.SubscriptionID, b.ID, func(cur *ports.Bulk) error {
		if cur.Generation != b.Generation || cur.Status != ports.BulkRunning {
			return errStepStale
		}
		cur.Generation++
		cur.UpdatedAt = s.d.Clock.Now()
		return nil
	})
	if err != nil && !errors.Is(err, errStepStale) {
		return ports.Bulk{}, fmt.Errorf("advance bulk %s: %w", b.ID, err)
	}
	return out, err
}

// endBulk completes a running bulk; unlinked set, its queued recipients
// fail first with instance_not_connected, in the same transaction.
func (s *Service) endBulk(ctx context.Context, b ports.Bulk, unlinked bool) error {
	var out ports.Bulk
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		out, err = st.Bulks.UpdateBulk(ctx, b.SubscriptionID, b.ID, func(cur *ports.Bulk) error {
			if cur.Generation != b.Generation || cur.Status != ports.BulkRunning {
				return errStepStale
			}
			now := s.d.Clock.Now()
			if unlinked {
				if err := s.failQueued(ctx, st, *cur, ports.ReasonNotConnected, ports.ErrNotConnected().Message); err != nil {
					return err
				}
			}
			cur.Status, cur.CompletedAt, cur.UpdatedAt = ports.BulkCompleted, &now, now
			return nil
		})
		if err != nil {
			return err
		}
		_, err = s.announce(ctx, st, out)
		return err
	})
	if errors.Is(err, errStepStale) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("complete bulk %s: %w", b.ID, err)
	}
	s.d.Events.Wake(ctx, b.SubscriptionID)
	return nil
}

// bulkPause draws the pause before b's next send from its pacing.
func bulkPause(b ports.Bulk) time.Duration {
	if b.PacingMax <= b.PacingMin {
		return b.PacingMin
	}
	return b.PacingMin + rand.N(b.PacingMax-b.PacingMin+1)
}

// Relay restarts the runs of bulks whose step job went missing (the
// queue lost its data, or its attempts ran out): a running bulk untouched
// for longer than its longest pause and bulkIdleAfter, or a scheduled one
// that is that late. Each gets a new generation, so that an old step
// still alive after all stops, and the step of the new one. It returns how
// many runs it restarted; the composition root calls it periodically.
func (s *Service) Relay(ctx context.Context) (int, error) {
	if s.d.Backlog == nil {
		return 0, nil
	}
	now := s.d.Clock.Now()
	idle, err := s.d.Backlog.ListIdleBulks(ctx, now.Add(-bulkIdleAfter), bulkRelayBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range idle {
		due := b.UpdatedAt.Add(b.PacingMax + bulkIdleAfter)
		if b.Status == ports.BulkScheduled && b.ScheduledAt != nil {
			due = b.ScheduledAt.Add(bulkIdleAfter)
		}
		if now.Before(due) {
			continue
		}
		restarted, err := s.d.Stores.Bulks.UpdateBulk(ctx, b.SubscriptionID, b.ID, func(cur *ports.Bulk) error {
			if cur.Generation != b.Generation || cur.Status != b.Status {
				return errStepStale // it moved meanwhile: alive after all
			}
			cur.Generation++
			cur.UpdatedAt = now
			return nil
		})
		if errors.Is(err, errStepStale) || ports.IsCode(err, ports.ENotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("restart bulk %s: %w", b.ID, err)
		}
		if err := s.enqueueStep(ctx, restarted, now); err != nil && !ports.IsCode(err, ports.EConflict) {
			return n, err
		}
		n++
	}
	return n, nil
}
