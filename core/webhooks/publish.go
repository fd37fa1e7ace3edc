package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

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
	Sub      ports.SubscriptionID `json:"sub"`
	ID       ports.DeliveryID     `json:"id"`
	Endpoint ports.WebhookID      `json:"ep,omitempty"` // the lane; absent in older jobs
	Attempt  int                  `json:"attempt"`
}

// enqueue enqueues the next attempt of d, at d.NextAttemptAt. EConflict
// means the job is there already.
func (s *Service) enqueue(ctx context.Context, d ports.WebhookDelivery) error {
	return s.enqueueAs(ctx, d, jobID(d.ID, d.Attempts))
}

// enqueueAs enqueues d's next attempt under the job id jid.
func (s *Service) enqueueAs(ctx context.Context, d ports.WebhookDelivery, jid string) error {
	payload, err := json.Marshal(deliverJob{Sub: d.SubscriptionID, ID: d.ID, Endpoint: d.EndpointID, Attempt: d.Attempts})
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

// Test sends a webhook.test event to one endpoint, whatever its filter:
// the event and its one delivery are written in one transaction (the
// dispatcher leaves webhook.test events to this, and only forwards them to
// the realtime stream). EConflict when the endpoint is disabled. It
// returns the event id.
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
	var rows []ports.WebhookDelivery
	var e ports.Event
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		e, err = s.d.Events.Append(ctx, st, ports.EventWebhookTest, p.SubscriptionID, inst, struct{}{})
		if err != nil {
			return err
		}
		if rows, err = s.deliveriesOf(e, []ports.WebhookEndpoint{w}); err != nil {
			return err
		}
		return createDeliveries(ctx, st, rows)
	})
	if err != nil {
		return "", fmt.Errorf("test webhook %s: %w", id, err)
	}
	s.d.Events.Wake(ctx, p.SubscriptionID)
	s.enqueueAll(ctx, rows)
	return e.ID, nil
}
