package webhooks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// dueBatch is how many due deliveries a drain reads at once: one query
// per batch instead of one per delivery. A retry that falls due meanwhile
// waits for the batch to end, so the batch stays short.
const dueBatch = 16

// ownJob is the delivery a job was enqueued for.
type ownJob struct {
	sub     ports.SubscriptionID
	id      ports.DeliveryID
	ep      ports.WebhookID
	attempt int
}

// HandleDeliver runs a delivery job: under its endpoint's lane, it makes
// the endpoint's due deliveries oldest first, its own among them (see
// lanes). Each attempt claims the delivery, posts the payload signed with
// the endpoint's current secrets and records the outcome, enqueuing the
// next attempt on the schedule. The schedule, not the queue, decides
// retries, so the handler returns nil once the outcome is recorded. The
// job names its endpoint, so a job whose lane is held knocks without
// touching the database.
func (s *Service) HandleDeliver(ctx context.Context, job ports.Delivery) error {
	var j deliverJob
	if err := json.Unmarshal(job.Payload, &j); err != nil || j.Sub == "" || j.ID == "" {
		return ports.Errorf(ports.EInvalid, "delivery job %s: bad payload", job.ID)
	}
	own := ownJob{sub: j.Sub, id: j.ID, ep: j.Endpoint, attempt: j.Attempt}
	if s.claims.made(own.id, own.attempt) {
		return nil // a stale duplicate: a drain here made the attempt
	}
	if own.ep == "" {
		// Enqueued before jobs named their endpoint.
		d, err := s.d.Stores.Deliveries.GetDelivery(ctx, j.Sub, j.ID)
		if ports.IsCode(err, ports.ENotFound) {
			return nil // its endpoint was deleted
		}
		if err != nil {
			return fmt.Errorf("get delivery %s: %w", j.ID, err)
		}
		own.ep = d.EndpointID
	}
	if !s.lanes.acquire(own.ep) {
		return nil // knocked: the lane's holder makes this delivery too
	}
	return s.drain(ctx, own)
}

// drain makes the endpoint's due deliveries oldest first, until none is
// due, and gives the lane back; after maxDrain it hands the lane over to a
// new job instead. own, the job's delivery, counts as due whatever the
// clock says (the queue ran its job: it is time) and goes when nothing
// older is due.
func (s *Service) drain(ctx context.Context, own ownJob) error {
	var due []ports.WebhookDelivery // the batch read last, oldest first
	ownDone := false
	claimed := &batchClaims{rows: map[ports.DeliveryID]ports.WebhookDelivery{}}
	defer s.giveBackAll(ctx, claimed) // a drain cut short posts none of them
	for range maxDrain {
		if len(due) == 0 {
			var err error
			if due, err = s.d.Stores.Deliveries.DueDeliveries(ctx, own.sub, own.ep, s.d.Clock.Now(), dueBatch); err != nil {
				s.lanes.drop(own.ep)
				return fmt.Errorf("due deliveries of %s: %w", own.ep, err)
			}
		}
		var next ports.WebhookDelivery
		switch {
		case !ownDone && (len(due) == 0 || due[0].ID >= own.id):
			ownDone = true
			if len(due) > 0 && due[0].ID == own.id {
				next, due = due[0], due[1:]
				break
			}
			d, ok, err := s.ownDelivery(ctx, own)
			if err != nil {
				s.lanes.drop(own.ep)
				return err
			}
			if !ok {
				continue
			}
			next = d
		case len(due) == 0:
			if s.lanes.release(own.ep) {
				return nil
			}
			continue // a job knocked meanwhile: look again
		default:
			next, due = due[0], due[1:]
		}
		if err := s.drainOne(ctx, claimed, next, due); err != nil {
			s.lanes.drop(own.ep)
			return err
		}
		if err := ctx.Err(); err != nil {
			s.lanes.drop(own.ep)
			return err // shutdown: the attempt was given back
		}
	}
	return s.handOver(ctx, own)
}

// ownDelivery reads the job's delivery when it was not among the due
// ones: false if it is gone or its attempt was made (a stale duplicate).
func (s *Service) ownDelivery(ctx context.Context, own ownJob) (ports.WebhookDelivery, bool, error) {
	d, err := s.d.Stores.Deliveries.GetDelivery(ctx, own.sub, own.id)
	if ports.IsCode(err, ports.ENotFound) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("get delivery %s: %w", own.id, err)
	}
	return d, d.Status == ports.DeliveryPending && d.Attempts == own.attempt && d.EndpointID == own.ep, nil
}

// handOver ends a drain cut short by maxDrain: it enqueues a job for the
// endpoint's next due delivery (if its own job is still queued, that one
// will do) and lets the lane go, so that the drain goes on in a new job
// while other endpoints' jobs get their turn at the workers.
func (s *Service) handOver(ctx context.Context, own ownJob) error {
	defer s.lanes.drop(own.ep)
	due, err := s.d.Stores.Deliveries.DueDeliveries(ctx, own.sub, own.ep, s.d.Clock.Now(), 1)
	if err != nil {
		return fmt.Errorf("next delivery of %s: %w", own.ep, err)
	}
	if len(due) == 0 {
		return nil
	}
	if err := s.enqueue(ctx, due[0]); err != nil && !ports.IsCode(err, ports.EConflict) {
		return fmt.Errorf("hand the drain of %s over: %w", own.ep, err)
	}
	return nil
}
