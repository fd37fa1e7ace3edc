package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// maxLoggedResponse is how much of a receiver's answer the log keeps.
const maxLoggedResponse = 1024

// refusedMessage is the log's error for a target the SSRF guard refused:
// the guard's own message may name an internal address.
const refusedMessage = "refused by the SSRF guard"

// Register registers the delivery handler with a runner.
func (s *Service) Register(r ports.Runner) {
	r.Handle(JobDeliver, s.HandleDeliver, ports.HandlerOptions{Concurrency: s.cfg.Concurrency})
	// Dispatches of different subscriptions run side by side; one
	// subscription's are kept apart by its cursor.
	r.Handle(events.JobDispatch, s.HandleDispatch, ports.HandlerOptions{Concurrency: 4})
}

// HandleDeliver runs a delivery job: under its endpoint's lane, it makes
// the endpoint's due deliveries oldest first, its own among them (see
// lanes). Each attempt claims the delivery, posts the payload signed with
// the endpoint's current secrets and records the outcome, enqueuing the
// next attempt on the schedule. The schedule, not the queue, decides
// retries, so the handler returns nil once the outcome is recorded.
func (s *Service) HandleDeliver(ctx context.Context, job ports.Delivery) error {
	var j deliverJob
	if err := json.Unmarshal(job.Payload, &j); err != nil || j.Sub == "" || j.ID == "" {
		return ports.Errorf(ports.EInvalid, "delivery job %s: bad payload", job.ID)
	}
	d, err := s.d.Stores.Deliveries.GetDelivery(ctx, j.Sub, j.ID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil // its endpoint was deleted
	}
	if err != nil {
		return fmt.Errorf("get delivery %s: %w", j.ID, err)
	}
	if d.Status != ports.DeliveryPending || d.Attempts != j.Attempt {
		return nil // a stale duplicate: the attempt ran already
	}
	if !s.lanes.acquire(d.EndpointID) {
		return nil // knocked: the lane's holder makes this delivery too
	}
	return s.drain(ctx, d)
}

// drain makes the endpoint's due deliveries oldest first, until none is
// due, and gives the lane back; after maxDrain it hands the lane over to a
// new job instead. own, the job's delivery, counts as due whatever the
// clock says (the queue ran its job: it is time) and goes when nothing
// older is due.
func (s *Service) drain(ctx context.Context, own ports.WebhookDelivery) error {
	ep := own.EndpointID
	ownDone := false
	for range maxDrain {
		next, err := s.d.Stores.Deliveries.NextDue(ctx, own.SubscriptionID, ep, s.d.Clock.Now())
		none := ports.IsCode(err, ports.ENotFound)
		if err != nil && !none {
			s.lanes.drop(ep)
			return fmt.Errorf("next delivery of %s: %w", ep, err)
		}
		if !ownDone && (none || next.ID >= own.ID) {
			if none || next.ID != own.ID {
				next = own
			}
			none, ownDone = false, true
		}
		if none {
			if s.lanes.release(ep) {
				return nil
			}
			continue // a job knocked meanwhile: look again
		}
		if err := s.deliver(ctx, next); err != nil {
			s.lanes.drop(ep)
			return err
		}
		if err := ctx.Err(); err != nil {
			s.lanes.drop(ep)
			return err // shutdown: the attempt was given back
		}
	}
	return s.handOver(ctx, own)
}

// handOver ends a drain cut short by maxDrain: it enqueues a job for the
// endpoint's next due delivery (if its own job is still queued, that one
// will do) and lets the lane go, so that the drain goes on in a new job
// while other endpoints' jobs get their turn at the workers.
func (s *Service) handOver(ctx context.Context, own ports.WebhookDelivery) error {
	defer s.lanes.drop(own.EndpointID)
	next, err := s.d.Stores.Deliveries.NextDue(ctx, own.SubscriptionID, own.EndpointID, s.d.Clock.Now())
	if ports.IsCode(err, ports.ENotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("next delivery of %s: %w", own.EndpointID, err)
	}
	if err := s.enqueue(ctx, next); err != nil && !ports.IsCode(err, ports.EConflict) {
		return fmt.Errorf("hand the drain of %s over: %w", own.EndpointID, err)
	}
	return nil
}

// deliver makes one attempt of d, loaded by the caller: a stale d (its
// attempt made meanwhile, or in flight elsewhere) is left alone.
func (s *Service) deliver(ctx context.Context, d ports.WebhookDelivery) error {
	w, err := s.d.Stores.Webhooks.GetWebhook(ctx, d.SubscriptionID, d.EndpointID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get webhook %s: %w", d.EndpointID, err)
	}
	if !w.Enabled {
		s.d.Observer.Dropped(DropEndpointDisabled, 1)
		return s.record(ctx, d, func(d *ports.WebhookDelivery) {
			d.Status, d.LastError, d.NextAttemptAt = ports.DeliveryFailed, "the endpoint is disabled", nil
		})
	}
	d, err = s.claim(ctx, d)
	if errors.Is(err, errStale) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.attempt(ctx, d, w)
}

var errStale = errors.New("stale delivery job")

// inFlight tells whether an attempt of d is being made. claim writes the
// lease's end as UpdatedAt + AttemptLease from one reading of the clock,
// and every later write of the row (the outcome, a shutdown's give-back)
// sets both anew, so that pair marks a claim without a column of its own.
// A claim whose lease ran out (its process died) is no longer in flight.
func (s *Service) inFlight(d ports.WebhookDelivery, now time.Time) bool {
	return d.Status == ports.DeliveryPending && d.NextAttemptAt != nil &&
		now.Before(*d.NextAttemptAt) && d.NextAttemptAt.Equal(d.UpdatedAt.Add(s.cfg.AttemptLease))
}

// claim counts the attempt under the row's lock, so that of two runs of the
// same job only one posts. The next attempt moves to the end of the lease:
// no other drain picks the delivery while it is in flight, and if this
// process dies mid-attempt it is due again when the lease ends (inFlight
// reads the claim from the row).
func (s *Service) claim(ctx context.Context, d ports.WebhookDelivery) (ports.WebhookDelivery, error) {
	want := d.Attempts
	out, err := s.d.Stores.Deliveries.UpdateDelivery(ctx, d.SubscriptionID, d.ID, func(d *ports.WebhookDelivery) error {
		if d.Status != ports.DeliveryPending || d.Attempts != want {
			return errStale
		}
		now := s.d.Clock.Now()
		lease := now.Add(s.cfg.AttemptLease)
		d.Attempts++
		d.UpdatedAt, d.NextAttemptAt = now, &lease
		return nil
	})
	if err != nil && !errors.Is(err, errStale) {
		return out, fmt.Errorf("claim delivery %s: %w", d.ID, err)
	}
	return out, err
}

// result is what one POST gave.
type result struct {
	status     int
	retryAfter string
	body       []byte
	err        error
	latency    time.Duration
}

// attempt posts d to w and records the outcome.
func (s *Service) attempt(ctx context.Context, d ports.WebhookDelivery, w ports.WebhookEndpoint) error {
	now := s.d.Clock.Now()
	res := s.post(ctx, d, w, now)
	o := Classify(res.status, res.err, res.retryAfter, now)
	if o.Kind == Abandoned {
		// Shutdown: give the attempt back, so that the job's rerun matches,
		// and end the lease, so that the delivery is due again at once.
		return s.record(ctx, d, func(d *ports.WebhookDelivery) { d.Attempts--; d.NextAttemptAt = &now })
	}
	reason := o.Reason
	if res.err != nil && s.d.Refused(res.err) {
		reason = refusedMessage
	}
	log := func(d *ports.WebhookDelivery) {
		d.LastStatusCode, d.LatencyMS = res.status, res.latency.Milliseconds()
		d.LastResponse, d.LastError = validUTF8(res.body), trimError(reason)
	}
	switch o.Kind {
	case Delivered:
		s.d.Observer.Attempted(OutcomeDelivered, res.latency)
		s.endpointOutcome(ctx, w, true, "")
		return s.record(ctx, d, func(d *ports.WebhookDelivery) {
			log(d)
			d.Status, d.NextAttemptAt = ports.DeliveryDelivered, nil
		})
	case Disable:
		s.d.Observer.Attempted(OutcomeGone, res.latency)
		if s.endpointOutcome(ctx, w, false, "the receiver answered 410 Gone") {
			s.d.Observer.Disabled(DisableGone)
		}
		return s.record(ctx, d, func(d *ports.WebhookDelivery) {
			log(d)
			d.Status, d.NextAttemptAt = ports.DeliveryFailed, nil
		})
	}
	disable := ""
	first := now
	if w.FirstFailureAt != nil {
		first = *w.FirstFailureAt
	}
	var last time.Time
	if w.LastSuccessAt != nil {
		last = *w.LastSuccessAt
	}
	if AutoDisable(last, first, now) {
		disable = staleReason
	}
	if s.endpointOutcome(ctx, w, false, disable) {
		s.d.Observer.Disabled(DisableFailing)
	}
	next, ok := RetryAt(s.cfg.Schedule, d.Attempts, o, now, nil)
	out, err := s.d.Stores.Deliveries.UpdateDelivery(ctx, d.SubscriptionID, d.ID, func(d *ports.WebhookDelivery) error {
		log(d)
		d.UpdatedAt = s.d.Clock.Now()
		if ok && disable == "" {
			d.NextAttemptAt = &next
			return nil
		}
		d.Status, d.NextAttemptAt = ports.DeliveryDead, nil
		return nil
	})
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	if out.Status == ports.DeliveryDead {
		s.d.Observer.Attempted(OutcomeDead, res.latency)
	} else {
		s.d.Observer.Attempted(OutcomeFailed, res.latency)
	}
	if out.Status == ports.DeliveryPending {
		if err := s.enqueue(ctx, out); err != nil && !ports.IsCode(err, ports.EConflict) {
			s.d.Log.Warn("enqueue retry; the relay will retry", "delivery", string(d.ID), "err", err)
		}
	}
	return nil
}

// post sends the payload. Our trace headers are never sent: the request is
// built here, with only the Standard Webhooks headers.
func (s *Service) post(ctx context.Context, d ports.WebhookDelivery, w ports.WebhookEndpoint, now time.Time) result {
	keys, err := rotation(w).secretsAt(now)
	if err != nil {
		return result{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return result{err: fmt.Errorf("build request: %w", err)}
	}
	for k, v := range Headers(d.EventID, now, d.Payload, keys...) {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wagate-webhooks/1")
	start := time.Now()
	resp, err := s.d.HTTP.Do(req)
	if err != nil {
		return result{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxLoggedResponse))
	return result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: body, latency: time.Since(start)}
}

// keyRing is an endpoint's secrets as stored.
type keyRing struct {
	current, previous string
	rotatedAt         time.Time
}

func rotation(w ports.WebhookEndpoint) keyRing {
	return keyRing{current: w.Secret, previous: w.PreviousSecret, rotatedAt: w.RotatedAt}
}

// secretsAt decodes the keys that sign at t (see Rotation.SecretsAt).
func (k keyRing) secretsAt(t time.Time) ([][]byte, error) {
	cur, err := DecodeSecret(k.current)
	if err != nil {
		return nil, fmt.Errorf("decode webhook secret: %w", err)
	}
	r := Rotation{Current: cur, RotatedAt: k.rotatedAt}
	if k.previous != "" {
		if r.Previous, err = DecodeSecret(k.previous); err != nil {
			return nil, fmt.Errorf("decode previous webhook secret: %w", err)
		}
	}
	return r.SecretsAt(t), nil
}

// endpointOutcome records a success or failure on the endpoint, and
// disables it when disable names a reason (audited as webhook.disabled).
// It reports whether it disabled the endpoint. It is best effort: the
// delivery's own record matters more.
func (s *Service) endpointOutcome(ctx context.Context, w ports.WebhookEndpoint, ok bool, disable string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := s.d.Clock.Now()
	if ok && w.FirstFailureAt == nil && w.LastSuccessAt != nil && now.Sub(*w.LastSuccessAt) < time.Minute {
		return false // a busy healthy endpoint: spare the write
	}
	if !ok && w.FirstFailureAt != nil && disable == "" {
		return false // already failing: the start of the run stays
	}
	disabled := false
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		disabled = false // a retried transaction starts over
		out, err := st.Webhooks.UpdateWebhook(ctx, w.SubscriptionID, w.ID, func(w *ports.WebhookEndpoint) error {
			switch {
			case ok:
				w.LastSuccessAt, w.FirstFailureAt = &now, nil
			case w.FirstFailureAt == nil:
				w.FirstFailureAt = &now
			}
			if disable != "" && w.Enabled {
				w.Enabled, w.DisabledReason = false, disable
				disabled = true
			}
			w.UpdatedAt = now
			return nil
		})
		if err != nil || !disabled {
			return err
		}
		return s.audit(ctx, st.Audit, disabledEntry(out, disable))
	})
	if err != nil {
		s.d.Log.Warn("record webhook outcome", "webhook", string(w.ID), "err", err)
		return false
	}
	return disabled
}

// record applies a change to the delivery's row, even if the run was just
// abandoned.
func (s *Service) record(ctx context.Context, d ports.WebhookDelivery, change func(*ports.WebhookDelivery)) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.d.Stores.Deliveries.UpdateDelivery(ctx, d.SubscriptionID, d.ID, func(d *ports.WebhookDelivery) error {
		change(d)
		d.UpdatedAt = s.d.Clock.Now()
		return nil
	})
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	return nil
}

// validUTF8 keeps a response body printable in the JSON log.
func validUTF8(b []byte) string {
	return string(bytes.ToValidUTF8(b, []byte(string(utf8.RuneError))))
}

// Deliveries pages through an endpoint's delivery log, newest first.
func (s *Service) Deliveries(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID, page ports.PageRequest) (ports.Page[ports.WebhookDelivery], error) {
	if err := p.RequireUser(); err != nil {
		return ports.Page[ports.WebhookDelivery]{}, err
	}
	if _, err := s.endpoint(ctx, s.d.Stores, p.SubscriptionID, inst, id); err != nil {
		return ports.Page[ports.WebhookDelivery]{}, err
	}
	out, err := s.d.Stores.Deliveries.ListDeliveries(ctx, p.SubscriptionID, id, page)
	if err != nil {
		return ports.Page[ports.WebhookDelivery]{}, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// Retry makes one delivery's next attempt now, with the same payload and
// webhook-id: a pending one waiting for a later retry has that attempt
// brought forward (a user who fixed the receiver wants it now, not in
// hours); a dead, failed or delivered one is replayed, one more attempt.
// The attempt goes through the endpoint's lane like any other, so it still
// waits for older deliveries of the endpoint that are due. EConflict while
// an attempt is in flight; ENotFound for another endpoint's or tenant's.
func (s *Service) Retry(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID, did ports.DeliveryID) (ports.WebhookDelivery, error) {
	if err := p.RequireUser(); err != nil {
		return ports.WebhookDelivery{}, err
	}
	if _, err := s.endpoint(ctx, s.d.Stores, p.SubscriptionID, inst, id); err != nil {
		return ports.WebhookDelivery{}, err
	}
	now := s.d.Clock.Now()
	waiting := false
	d, err := s.d.Stores.Deliveries.UpdateDelivery(ctx, p.SubscriptionID, did, func(d *ports.WebhookDelivery) error {
		if d.EndpointID != id {
			return ports.Errorf(ports.ENotFound, "delivery not found")
		}
		if s.inFlight(*d, now) {
			return ports.Errorf(ports.EConflict, "an attempt of the delivery is in flight; retry once it has ended")
		}
		waiting = d.Status == ports.DeliveryPending
		d.Status, d.NextAttemptAt, d.UpdatedAt = ports.DeliveryPending, &now, now
		return nil
	})
	if err != nil {
		return ports.WebhookDelivery{}, fmt.Errorf("retry delivery: %w", err)
	}
	jid := jobID(d.ID, d.Attempts)
	if waiting {
		// The attempt's job is queued already, for later, under jid: this
		// one runs now, and whichever runs second finds the attempt made.
		jid += ":now" + strconv.FormatInt(now.UnixNano(), 36)
	}
	if err := s.enqueueAs(ctx, d, jid); err != nil && !ports.IsCode(err, ports.EConflict) {
		s.d.Log.Warn("enqueue retry now; the relay will retry", "delivery", string(d.ID), "err", err)
	}
	return d, nil
}

// trimError keeps a delivery log's error short.
func trimError(msg string) string {
	msg = strings.TrimSpace(msg)
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen]
	}
	return msg
}

const maxErrorLen = 1000
