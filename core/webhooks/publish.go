package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/wagate/wagate/ports"
)

// JobDeliver is the job type of one delivery attempt. The job id is
// "<delivery id>:<attempts made before it>", unique per attempt, so that a
// retry is never refused as a duplicate of the run that enqueued it.
const JobDeliver = "webhook.deliver"

// deliverJob is the payload of JobDeliver. Attempt is the delivery's
// attempt count when the job was enqueued: a job whose count no longer
// matches is a stale duplicate.
type deliverJob struct {
	Sub     ports.SubscriptionID `json:"sub"`
	ID      ports.DeliveryID     `json:"id"`
	Attempt int                  `json:"attempt"`
}

// Publisher is the EventBus the other modules publish to: every event
// becomes one delivery per matching endpoint, written before its job is
// enqueued, and then goes on to the realtime bus.
type Publisher struct{ s *Service }

var _ ports.EventBus = Publisher{}

// Publisher returns the service's EventBus.
func (s *Service) Publisher() Publisher { return Publisher{s} }

// Publish fans e out to the instance's enabled endpoints whose filter
// matches, retrying a failed write for a few seconds (FanOutBackoff), then
// forwards it to the realtime bus. A fan-out failure is returned after the
// forward, so that realtime clients still see the event; the publishing
// modules log it, and the Observer counts it.
func (p Publisher) Publish(ctx context.Context, e ports.Event) error {
	s := p.s
	if e.ID == "" {
		e.ID = "evt_" + s.d.IDs.NewID()
	}
	if e.At.IsZero() {
		e.At = s.d.Clock.Now()
	}
	// The event has happened: its deliveries are written even if the
	// caller's context ends meanwhile.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fanOutTimeout)
	defer cancel()
	err := s.fanOutRetrying(fctx, e)
	if s.d.Realtime != nil {
		if rerr := s.d.Realtime.Publish(ctx, e); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// fanOutTimeout bounds the database work of one event's fan-out, its
// retries included.
const fanOutTimeout = 10 * time.Second

// fanOutRetrying runs the fan-out of e, trying again after an error that
// may pass. An event whose fan-out still fails is counted as lost; the
// caller logs it. A write that committed although it reported an error
// would be written twice: receivers deduplicate on webhook-id, which is
// the event's id.
func (s *Service) fanOutRetrying(ctx context.Context, e ports.Event) error {
	var err error
	for _, pause := range s.cfg.FanOutBackoff {
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				s.d.Observer.FanOutFailed()
				return fmt.Errorf("%w (and the fan-out ran out of time: %w)", err, ctx.Err())
			}
		}
		if err = s.fanOut(ctx, e, nil); err == nil || !ports.RetryFor(err).Retry || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		s.d.Observer.FanOutFailed()
	}
	return err
}

// Subscribe is the realtime bus's.
func (p Publisher) Subscribe(ctx context.Context, f ports.EventFilter) (<-chan ports.Event, error) {
	if p.s.d.Realtime == nil {
		return nil, ports.Errorf(ports.EUnavailable, "no realtime bus")
	}
	return p.s.d.Realtime.Subscribe(ctx, f)
}

// fanOut writes one delivery per target endpoint in one transaction and
// enqueues their jobs after the commit. only, when set, is the one endpoint
// to send to (the test event), whatever its filter.
func (s *Service) fanOut(ctx context.Context, e ports.Event, only *ports.WebhookEndpoint) error {
	if e.SubscriptionID == "" || e.InstanceID == "" {
		return nil
	}
	var targets []ports.WebhookEndpoint
	if only != nil {
		targets = []ports.WebhookEndpoint{*only}
	} else {
		all, err := s.d.Stores.Webhooks.ListWebhooks(ctx, e.SubscriptionID, e.InstanceID)
		if err != nil {
			return fmt.Errorf("fan out %s: %w", e.ID, err)
		}
		for _, w := range all {
			if w.Enabled && Matches(w.Events, e.Type) {
				targets = append(targets, w)
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	payload, err := s.d.Encode(e)
	if err != nil {
		// Invalid, not retried: the same event fails the same way again.
		return ports.Errorf(ports.EInvalid, "encode event %s: %v", e.ID, err)
	}
	now := s.d.Clock.Now()
	rows := make([]ports.WebhookDelivery, len(targets))
	for i, w := range targets {
		rows[i] = ports.WebhookDelivery{
			ID: ports.DeliveryID(s.d.IDs.NewID()), SubscriptionID: e.SubscriptionID, InstanceID: e.InstanceID,
			EndpointID: w.ID, EventID: e.ID, EventType: e.Type, Payload: payload,
			Status: ports.DeliveryPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now,
		}
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		for _, d := range rows {
			if err := st.Deliveries.CreateDelivery(ctx, e.SubscriptionID, d); err != nil {
				return fmt.Errorf("create delivery: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fan out %s: %w", e.ID, err)
	}
	// After the commit: the rows are the outbox. A failed enqueue leaves the
	// delivery pending and due, and the relay enqueues it later.
	for _, d := range rows {
		if err := s.enqueue(ctx, d); err != nil {
			s.d.Log.Warn("enqueue delivery; the relay will retry", "delivery", string(d.ID), "err", err)
		}
	}
	return nil
}

// enqueue enqueues the next attempt of d, at d.NextAttemptAt. EConflict
// means the job is there already.
func (s *Service) enqueue(ctx context.Context, d ports.WebhookDelivery) error {
	return s.enqueueAs(ctx, d, jobID(d.ID, d.Attempts))
}

// enqueueAs enqueues d's next attempt under the job id jid.
func (s *Service) enqueueAs(ctx context.Context, d ports.WebhookDelivery, jid string) error {
	payload, err := json.Marshal(deliverJob{Sub: d.SubscriptionID, ID: d.ID, Attempt: d.Attempts})
	if err != nil {
		return fmt.Errorf("encode delivery job: %w", err)
	}
	j := ports.Job{ID: jid, Type: JobDeliver, Payload: payload}
	if d.NextAttemptAt != nil {
		j.RunAt = *d.NextAttemptAt
	}
	return s.d.Queue.Enqueue(ctx, j)
}

func jobID(id ports.DeliveryID, attempts int) string {
	return string(id) + ":" + strconv.Itoa(attempts)
}

// Test sends a webhook.test event to one endpoint, whatever its filter.
// EConflict when the endpoint is disabled. It returns the event id.
func (s *Service) Test(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID) (string, error) {
	if err := p.RequireUser(); err != nil {
		return "", err
	}
	w, err := s.endpoint(ctx, s.d.Stores, p.SubscriptionID, inst, id)
	if err != nil {
		return "", err
	}
	if !w.Enabled {
		return "", ports.Errorf(ports.EConflict, "the webhook is disabled; enable it first")
	}
	e := ports.Event{
		ID: "evt_" + s.d.IDs.NewID(), Type: ports.EventWebhookTest, SubscriptionID: p.SubscriptionID,
		InstanceID: inst, At: s.d.Clock.Now(), Data: map[string]any{},
	}
	if err := s.fanOut(ctx, e, &w); err != nil {
		return "", err
	}
	return e.ID, nil
}
