package webhooks

import (
	"bytes"
	"context"
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

// deliver makes one attempt of d, as the caller read it: a stale d (its
// attempt made meanwhile, or in flight elsewhere) is left alone. The
// endpoint comes from the cache; the claim checks it is current, and a
// refused claim reads it afresh once, to tell a stale delivery from an
// endpoint that changed.
func (s *Service) deliver(ctx context.Context, d ports.WebhookDelivery) error {
	w, err := s.cachedEndpoint(ctx, d.SubscriptionID, d.EndpointID)
	for fresh := false; ; fresh = true {
		if ports.IsCode(err, ports.ENotFound) {
			return nil // deleted, and its deliveries with it
		}
		if err != nil {
			return fmt.Errorf("get webhook %s: %w", d.EndpointID, err)
		}
		if !w.Enabled {
			return s.failDisabled(ctx, d)
		}
		claimed, ok, err := s.claim(ctx, d, w)
		if err != nil {
			return err
		}
		if ok {
			return s.attempt(ctx, claimed, w)
		}
		if fresh {
			return nil
		}
		cached := w
		w, err = s.freshEndpoint(ctx, d.SubscriptionID, d.EndpointID)
		if err == nil && w.Enabled && w.UpdatedAt.Equal(cached.UpdatedAt) {
			return nil // the endpoint is as cached: the delivery moved on
		}
	}
}

// failDisabled ends a delivery whose endpoint is disabled.
func (s *Service) failDisabled(ctx context.Context, d ports.WebhookDelivery) error {
	was := d.Attempts
	d.Status, d.LastError, d.NextAttemptAt = ports.DeliveryFailed, "the endpoint is disabled", nil
	saved, err := s.save(ctx, d, was)
	if saved {
		s.d.Observer.Dropped(DropEndpointDisabled, 1)
	}
	return err
}

// inFlight tells whether an attempt of d is being made. claim writes the
// lease's end as UpdatedAt + AttemptLease from one reading of the clock,
// and every later write of the row (the outcome, a shutdown's give-back)
// sets both anew, so that pair marks a claim without a column of its own.
// A claim whose lease ran out (its process died) is no longer in flight.
func (s *Service) inFlight(d ports.WebhookDelivery, now time.Time) bool {
	return d.Status == ports.DeliveryPending && d.NextAttemptAt != nil &&
		now.Before(*d.NextAttemptAt) && d.NextAttemptAt.Equal(d.UpdatedAt.Add(s.cfg.AttemptLease))
}

// claim counts the attempt in one conditional write, so that of two runs
// of the same job only one posts, and only to the endpoint as w has it.
// The next attempt moves to the end of the lease: no other drain picks the
// delivery while it is in flight, and if this process dies mid-attempt it
// is due again when the lease ends (inFlight reads the claim from the
// row). It returns d as claimed, and false if the claim was refused.
func (s *Service) claim(ctx context.Context, d ports.WebhookDelivery, w ports.WebhookEndpoint) (ports.WebhookDelivery, bool, error) {
	now := s.d.Clock.Now()
	lease := now.Add(s.cfg.AttemptLease)
	ok, err := s.d.Stores.Deliveries.ClaimDelivery(ctx, d.SubscriptionID, ports.DeliveryClaim{
		ID: d.ID, Endpoint: d.EndpointID, Attempts: d.Attempts, EndpointVersion: w.UpdatedAt, At: now, LeaseEnd: lease,
	})
	if err != nil {
		return d, false, fmt.Errorf("claim delivery %s: %w", d.ID, err)
	}
	d.Attempts++
	d.UpdatedAt, d.NextAttemptAt = now, &lease
	if ok {
		s.claims.note(d.ID, d.Attempts)
	}
	return d, ok, nil
}

// result is what one POST gave.
type result struct {
	status     int
	retryAfter string
	body       []byte
	err        error
	latency    time.Duration
}

// attempt posts d, just claimed, to w and saves the outcome.
func (s *Service) attempt(ctx context.Context, d ports.WebhookDelivery, w ports.WebhookEndpoint) error {
	now := s.d.Clock.Now()
	res := s.post(ctx, d, w, now)
	o := Classify(res.status, res.err, res.retryAfter, now)
	was := d.Attempts
	if o.Kind == Abandoned {
		// Shutdown: give the attempt back, so that the job's rerun matches,
		// and end the lease, so that the delivery is due again at once.
		d.Attempts--
		d.NextAttemptAt = &now
		_, err := s.save(ctx, d, was)
		return err
	}
	reason := o.Reason
	if res.err != nil && s.d.Refused(res.err) {
		reason = refusedMessage
	}
	d.LastStatusCode, d.LatencyMS = res.status, res.latency.Milliseconds()
	d.LastResponse, d.LastError = validUTF8(res.body), trimError(reason)
	switch o.Kind {
	case Delivered:
		s.d.Observer.Attempted(OutcomeDelivered, res.latency)
		s.endpointOutcome(ctx, w, true, "")
		d.Status, d.NextAttemptAt = ports.DeliveryDelivered, nil
		_, err := s.save(ctx, d, was)
		return err
	case Disable:
		s.d.Observer.Attempted(OutcomeGone, res.latency)
		if s.endpointOutcome(ctx, w, false, "the receiver answered 410 Gone") {
			s.d.Observer.Disabled(DisableGone)
		}
		d.Status, d.NextAttemptAt = ports.DeliveryFailed, nil
		_, err := s.save(ctx, d, was)
		return err
	}
	return s.failed(ctx, d, w, o, res.latency, now)
}

// failed saves an attempt that is to be retried: on the schedule, or never
// when the schedule is used up or the endpoint has failed for too long.
func (s *Service) failed(ctx context.Context, d ports.WebhookDelivery, w ports.WebhookEndpoint, o Outcome, latency time.Duration, now time.Time) error {
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
	if ok && disable == "" {
		d.NextAttemptAt = &next
	} else {
		d.Status, d.NextAttemptAt = ports.DeliveryDead, nil
	}
	saved, err := s.save(ctx, d, d.Attempts)
	if err != nil || !saved {
		return err
	}
	if d.Status == ports.DeliveryDead {
		s.d.Observer.Attempted(OutcomeDead, latency)
		return nil
	}
	s.d.Observer.Attempted(OutcomeFailed, latency)
	if err := s.enqueue(ctx, d); err != nil && !ports.IsCode(err, ports.EConflict) {
		s.d.Log.Warn("enqueue retry; the relay will retry", "delivery", string(d.ID), "err", err)
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
	var updated ports.WebhookEndpoint
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
		if err != nil {
			return err
		}
		updated = out
		if !disabled {
			return nil
		}
		return s.audit(ctx, st.Audit, disabledEntry(out, disable))
	})
	if err != nil {
		s.d.Log.Warn("record webhook outcome", "webhook", string(w.ID), "err", err)
		s.endpoints.forget(w.ID)
		return false
	}
	s.endpoints.put(updated)
	return disabled
}

// save writes d's outcome, if the delivery still has was attempts made,
// even if the run was just abandoned. A refusal means another claim came
// in (this one's lease ran out): that attempt's outcome is the one to
// keep, so it is reported, not an error.
func (s *Service) save(ctx context.Context, d ports.WebhookDelivery, was int) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	d.UpdatedAt = s.d.Clock.Now()
	saved, err := s.d.Stores.Deliveries.SaveAttempt(ctx, d.SubscriptionID, d, was)
	if err != nil {
		return false, fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	if !saved {
		s.d.Log.Warn("a later claim took the delivery over; its outcome stands", "delivery", string(d.ID))
		return false, nil
	}
	s.claims.note(d.ID, d.Attempts) // a given-back attempt lowers the count again
	return true, nil
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
