package messaging

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// JobSend is the job type of one outbound message; the job id is the
// message id, so that a message has at most one job at a time.
const JobSend = "message.send"

// maxBackoff caps the wait between send attempts, so that a message for a
// reconnecting instance goes soon after the instance is back.
const maxBackoff = time.Minute

// sendJob is the payload of JobSend.
type sendJob struct {
	Sub ports.SubscriptionID `json:"sub"`
	ID  ports.MessageID      `json:"id"`
}

// Register registers the send handler with a runner.
func (s *Service) Register(r ports.Runner) {
	r.Handle(JobSend, s.HandleSend, ports.HandlerOptions{
		Concurrency: s.cfg.SendConcurrency,
		Backoff:     func(n int) time.Duration { return min(ports.DefaultBackoff(n), maxBackoff) },
	})
}

// enqueue enqueues the send job of m. EConflict means the job is there
// already.
func (s *Service) enqueue(ctx context.Context, m ports.Message) error {
	payload, err := json.Marshal(sendJob{Sub: m.SubscriptionID, ID: m.ID})
	if err != nil {
		return fmt.Errorf("encode send job: %w", err)
	}
	// Enough attempts to outlast MaxAge at the capped backoff: the handler,
	// not the attempt budget, decides when a waiting message has failed.
	attempts := int(s.cfg.MaxAge/maxBackoff) + 20
	return s.d.Queue.Enqueue(ctx, ports.Job{ID: string(m.ID), Type: JobSend, Payload: payload, MaxAttempts: attempts})
}

// HandleSend runs one send job: it claims the message (queued → sending),
// sends it and records WhatsApp's id (sent). While the instance is
// disconnected the message goes back to queued and the job is retried with
// backoff, until MaxAge has passed (then failed, instance_not_connected). A
// recipient WhatsApp refuses fails the message. Another send of the same
// instance in flight, or its pause not yet over, defers the job without
// using an attempt.
func (s *Service) HandleSend(ctx context.Context, d ports.Delivery) error {
	var job sendJob
	if err := json.Unmarshal(d.Payload, &job); err != nil || job.Sub == "" || job.ID == "" {
		return ports.Errorf(ports.EInvalid, "send job %s: bad payload", d.ID)
	}
	m, err := s.d.Stores.Messages.GetMessage(ctx, job.Sub, job.ID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil // deleted meanwhile: nothing to send
	}
	if err != nil {
		return fmt.Errorf("get message %s: %w", job.ID, err)
	}
	if m.Status != ports.MsgQueued {
		return nil // a duplicate job of a message that is past queued
	}
	if err := s.checkOwner(ctx, m); err != nil {
		return err
	}
	slot, err := s.pace.acquire(m.InstanceID)
	if err != nil {
		return err
	}
	defer slot.release()
	if err := slot.wait(ctx); err != nil {
		return ports.Errorf(ports.EUnavailable, "send %s: %v", m.ID, err)
	}
	return s.send(ctx, m, slot)
}

// ownerRetry is how soon a send job that reached a node other than its
// instance's owner comes back: jobs go to any node's workers, so it takes
// a few tries to land on the owner.
const ownerRetry = time.Second

// checkOwner sends the job back to the queue when another node holds (or
// is about to claim) the instance's connection: only the owner sends, so
// that a takeover never has two nodes sending for one instance. ERateLimited
// retries without spending an attempt. An instance nobody will connect
// (not wanted connected), or a message past its MaxAge, goes on to the
// usual path, which fails or waits it as for one node.
func (s *Service) checkOwner(ctx context.Context, m ports.Message) error {
	if s.d.Owner == nil || s.d.Owner.Owns(m.InstanceID) {
		return nil
	}
	if s.d.Clock.Now().Sub(m.CreatedAt) >= s.cfg.MaxAge {
		return nil
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, m.SubscriptionID, m.InstanceID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	switch inst.Status {
	case ports.StatusConnecting, ports.StatusQR, ports.StatusConnected:
		return &ports.Error{Code: ports.ERateLimited, RetryAfter: ownerRetry,
			Message: fmt.Sprintf("send %s: instance %s is held by another node", m.ID, m.InstanceID)}
	}
	return nil
}

// send claims and sends m while holding its instance's slot.
func (s *Service) send(ctx context.Context, m ports.Message, slot *slot) error {
	inst, err := s.d.Stores.Instances.GetInstance(ctx, m.SubscriptionID, m.InstanceID)
	if err != nil && !ports.IsCode(err, ports.ENotFound) {
		return fmt.Errorf("get instance: %w", err)
	}
	if err != nil || inst.Status == ports.StatusCreated || inst.Status == ports.StatusLoggedOut {
		// Unlinked since it was accepted: it will not come back by itself.
		return s.finish(ctx, m, func(m *ports.Message) { s.failed(m, errNotConnected()) })
	}
	md, err := s.loadMedia(ctx, m)
	if ports.IsCode(err, ports.ENotFound) {
		return s.finish(ctx, m, func(m *ports.Message) {
			s.failed(m, ports.ReasonError(ports.EInternal, "media_missing", "the file of the message is gone"))
		})
	}
	if err != nil {
		return err
	}
	m, err = s.d.Stores.Messages.ClaimForSend(ctx, m.SubscriptionID, m.ID, s.d.Clock.Now())
	if ports.IsCode(err, ports.EConflict) || ports.IsCode(err, ports.ENotFound) {
		return nil // another run has it
	}
	if err != nil {
		return fmt.Errorf("claim %s: %w", m.ID, err)
	}
	s.publishStatus(ctx, m)
	slot.sending()
	sent, err := s.d.WhatsApp.Send(ctx, m.InstanceID, outbound(m, md))
	switch {
	case err == nil:
		return s.finish(ctx, m, func(m *ports.Message) {
			at := sent.Timestamp
			if at.IsZero() {
				at = s.d.Clock.Now()
			}
			m.Status, m.WAMessageID, m.SentAt = ports.MsgSent, sent.WAMessageID, &at
		})
	case !retryable(err):
		return s.finish(ctx, m, func(m *ports.Message) { s.failed(m, err) })
	case s.d.Clock.Now().Sub(m.CreatedAt) >= s.cfg.MaxAge:
		return s.finish(ctx, m, func(m *ports.Message) { s.failed(m, err) })
	}
	if ferr := s.finish(ctx, m, func(m *ports.Message) { m.Status = ports.MsgQueued }); ferr != nil {
		return ferr
	}
	// The queue retries with backoff; instance_not_connected is a
	// conflict for a caller, but for the job it is a wait.
	return ports.Errorf(ports.EUnavailable, "send %s: %v", m.ID, err)
}

// loadMedia returns the file of a media message, read before the claim so
// that a failed read leaves the message queued; nil for text and location.
func (s *Service) loadMedia(ctx context.Context, m ports.Message) (*ports.MessageMedia, error) {
	if mediaKind(m.Type) == "" {
		return nil, nil
	}
	md, err := s.d.Stores.Media.GetMedia(ctx, m.SubscriptionID, m.ID)
	if err != nil {
		return nil, fmt.Errorf("get media of %s: %w", m.ID, err)
	}
	return &md, nil
}

// retryable reports whether a send error may pass: the instance is only
// disconnected, or WhatsApp did not answer.
func retryable(err error) bool {
	if e := ports.AsError(err); e != nil && e.Reason == "instance_not_connected" {
		return true
	}
	return ports.RetryFor(err).Retry
}

// failed marks m failed with the error's reason as its code.
func (s *Service) failed(m *ports.Message, err error) {
	m.Status, m.ErrorCode, m.ErrorMessage = ports.MsgFailed, "send_failed", err.Error()
	if e := ports.AsError(err); e != nil {
		m.ErrorMessage = e.Message
		switch {
		case e.Reason != "":
			m.ErrorCode = e.Reason
		case e.Code == ports.EInvalid:
			m.ErrorCode = "recipient_rejected"
		}
	}
	if len(m.ErrorMessage) > 1000 {
		m.ErrorMessage = m.ErrorMessage[:1000]
	}
}

// finish applies a status move to m, stores it and announces it.
func (s *Service) finish(ctx context.Context, m ports.Message, move func(*ports.Message)) error {
	// The outcome must be recorded even if the run was just abandoned.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, err := s.updateCounted(ctx, m.SubscriptionID, m.ID, func(m *ports.Message) error {
		move(m)
		m.UpdatedAt = s.d.Clock.Now()
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", m.ID, err)
	}
	s.publishStatus(ctx, out)
	return nil
}

// publishStatus announces m's status.
func (s *Service) publishStatus(ctx context.Context, m ports.Message) {
	s.publish(ctx, ports.Event{
		Type: ports.EventMessageStatus, SubscriptionID: m.SubscriptionID, InstanceID: m.InstanceID,
		Data: ports.MessageStatusData{MessageID: m.ID, Status: m.Status, ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage},
	})
}

// publish stamps e and hands it to the bus. A failure loses one realtime
// event; it is logged, since what caused the event has happened.
func (s *Service) publish(ctx context.Context, e ports.Event) {
	if s.d.Bus == nil {
		return
	}
	e.ID = "evt_" + s.d.IDs.NewID()
	e.At = s.d.Clock.Now()
	if err := s.d.Bus.Publish(ctx, e); err != nil {
		s.d.Log.Warn("publish event", "type", string(e.Type), "instance", string(e.InstanceID), "err", err)
	}
}
