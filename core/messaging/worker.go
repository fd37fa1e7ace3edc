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
	// Inst is the message's instance (empty in jobs of earlier versions):
	// a job that finds it drained here needs no read (HandleSend).
	Inst ports.InstanceID `json:"inst,omitempty"`
	// Wake marks a wake-up after a send (wake), not a message's own job.
	Wake bool `json:"wake,omitempty"`
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
	payload, err := json.Marshal(sendJob{Sub: m.SubscriptionID, ID: m.ID, Inst: m.InstanceID})
	if err != nil {
		return fmt.Errorf("encode send job: %w", err)
	}
	// Enough attempts to outlast MaxAge at the capped backoff: the handler,
	// not the attempt budget, decides when a waiting message has failed.
	attempts := int(s.cfg.MaxAge/maxBackoff) + 20
	return s.d.Queue.Enqueue(ctx, ports.Job{ID: string(m.ID), Type: JobSend, Payload: payload, MaxAttempts: attempts})
}

// HandleSend runs one send job. The job wakes its message's instance
// rather than naming what to send: holding the instance's turn, it sends
// the instance's oldest message still to send (queued, or sending with a
// claim gone stale), then the next once the pause allows, and so on until
// none is left (drain), so an instance's messages go out in the order they
// were accepted whichever of their jobs runs first, back to back. A job
// of the instance that runs meanwhile tells the holder to look again and
// ends (pacer.join); one that finds nothing left (a duplicate job) does
// nothing. While the instance is disconnected the oldest message goes
// back to queued and the job is retried with backoff, until MaxAge has
// passed (then failed, instance_not_connected): later messages wait
// behind it, which is what order means. A recipient WhatsApp refuses
// fails the message. A bulk holding the instance's turn, or an oldest
// message whose claim is still fresh, defers the job without using an
// attempt.
func (s *Service) HandleSend(ctx context.Context, d ports.Delivery) error {
	var job sendJob
	if err := json.Unmarshal(d.Payload, &job); err != nil || job.Sub == "" || job.ID == "" {
		return ports.Errorf(ports.EInvalid, "send job %s: bad payload", d.ID)
	}
	if job.Wake {
		// A wake-up enqueued by an earlier version, after a send: the
		// run that sent drains the instance now, and the messages still
		// waiting have their own jobs.
		return nil
	}
	if job.Inst != "" && s.pace.joinDraining(job.Inst) {
		// A run of this process drains the instance and will look again:
		// the message goes out in it, without this job reading it (at a
		// high accept rate, most jobs end here).
		return nil
	}
	m, err := s.d.Stores.Messages.GetMessage(ctx, job.Sub, job.ID)
	if ports.IsCode(err, ports.ENotFound) {
		if job.Inst == "" {
			return nil // deleted meanwhile: its instance has nothing of it to send
		}
		// Deleted meanwhile; messages accepted while this job waited may
		// count on it (needsJob), so its run looks for them.
		m = ports.Message{SubscriptionID: job.Sub, InstanceID: job.Inst, CreatedAt: s.d.Clock.Now()}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("get message %s: %w", job.ID, err)
	}
	return s.drain(ctx, m)
}

// staleBefore is the time before which a claim is stale: its worker had
// SendTimeout to send and ClaimStaleAfter has passed.
func (s *Service) staleBefore(now time.Time) time.Time {
	return now.Add(-s.cfg.ClaimStaleAfter)
}

// claimedFresh reports whether m is claimed by a worker that may still be
// sending it: sending, with a claim that is not stale at now.
func (s *Service) claimedFresh(m ports.Message, now time.Time) bool {
	return m.Status == ports.MsgSending && !m.UpdatedAt.Before(s.staleBefore(now))
}

// ownerRetry is how soon a send job (or bulk step) that reached a node
// other than its instance's owner comes back: jobs go to any node's
// workers, so it takes a few tries to land on the owner, and at 1 s a
// bulk paced at 100 ms advanced one recipient every few seconds on three
// nodes. A bounce costs one cheap read.
const ownerRetry = 250 * time.Millisecond

// checkOwner sends the job back to the queue when another node holds (or
// is about to claim) the instance's connection: only the owner sends, so
// that a takeover never has two nodes sending for one instance. ERateLimited
// retries without spending an attempt. An instance nobody will connect
// (not wanted connected), or a message past its MaxAge, goes on to the
// usual path, which fails or waits it as for one node.
func (s *Service) checkOwner(ctx context.Context, m ports.Message) error {
	if s.owns(m.InstanceID) || s.d.Clock.Now().Sub(m.CreatedAt) >= s.cfg.MaxAge {
		return nil
	}
	return s.heldElsewhere(ctx, m.SubscriptionID, m.InstanceID, "send "+string(m.ID))
}

// owns reports whether this node holds the instance's connection.
func (s *Service) owns(id ports.InstanceID) bool {
	return s.d.Owner == nil || s.d.Owner.Owns(id)
}

// heldElsewhere is ERateLimited when another node holds, or is about to
// claim, the connection of an instance this node does not own; nil when
// nobody will (the usual path then fails or waits the work as for one
// node).
func (s *Service) heldElsewhere(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID, what string) error {
	inst, err := s.d.Stores.Instances.GetInstance(ctx, sub, id)
	if ports.IsCode(err, ports.ENotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	if inst.Status.WantsConnection() {
		return &ports.Error{Code: ports.ERateLimited, RetryAfter: ownerRetry,
			Message: fmt.Sprintf("%s: instance %s is held by another node", what, id)}
	}
	return nil
}

// send sends m, queued or sending with a stale claim, while holding its
// instance's slot: it claims m (which gives it its WhatsApp id on the
// first claim, before anything goes out), sends it under that id within
// SendTimeout and records the outcome. It returns nil once the outcome is
// recorded (sent or failed), or when m is not to be sent by this run
// (another worker holds a fresh claim, or it is past sending);
// EUnavailable when the instance is only disconnected or WhatsApp did not
// answer (m is queued again, with its id, for a later try).
func (s *Service) send(ctx context.Context, m ports.Message, slot *slot) error {
	r, err := s.ready(ctx, m)
	if err != nil || r == nil {
		return err
	}
	ps, err := s.claimReady(ctx, []*readied{r}, nil)
	if err != nil || len(ps) == 0 {
		return err
	}
	p := ps[0]
	defer p.cancel()
	slot.sending()
	sent, err := s.d.WhatsApp.Send(p.ctx, p.claimed.InstanceID, p.out)
	rec, retry := s.outcome(p, sent, err)
	if err := s.recordAll(ctx, []*pending{rec}); err != nil {
		return err
	}
	return retry
}

// requeue puts a message whose send did not pass back to queued. When
// the instance was not connected nothing was written to WhatsApp, so the
// attempt is given back: a message that never left can still be
// cancelled (Delete refuses one whose attempt may have arrived).
func requeue(err error) func(*ports.Message) {
	return func(m *ports.Message) {
		m.Status = ports.MsgQueued
		if e := ports.AsError(err); e != nil && e.Reason == ports.ReasonNotConnected && m.Attempts > 0 {
			m.Attempts--
		}
	}
}

// sent records a send WhatsApp acknowledged. It is true whoever holds the
// claim by now, so it is recorded unless a receipt moved the message on
// already (then only its time is filled in) or it failed meanwhile.
func (s *Service) sent(m *ports.Message, claimed ports.Message, sent ports.WASent) bool {
	if rank[m.Status] == 0 { // failed meanwhile
		return false
	}
	at := sent.Timestamp
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	moved := false
	if rank[m.Status] < rank[ports.MsgSent] {
		m.Status, moved = ports.MsgSent, true
	}
	if m.SentAt == nil {
		m.SentAt, moved = &at, true
	}
	if sent.WAMessageID != "" && sent.WAMessageID != m.WAMessageID {
		// The adapter did not use the id it was given: receipts will
		// name WhatsApp's.
		s.d.Log.Warn("WhatsApp id of a send differs from the claimed one", "message", string(claimed.ID),
			"claimed", claimed.WAMessageID, "sent", sent.WAMessageID)
		m.WAMessageID, moved = sent.WAMessageID, true
	}
	return moved
}

// stillClaimed applies move only while m is sending under the claim this
// run made (the attempt count is the claim's token): once another worker
// reclaimed it as stale, or a receipt moved it on, the outcome is theirs.
func (s *Service) stillClaimed(claimed ports.Message, move func(*ports.Message)) func(*ports.Message) bool {
	return func(m *ports.Message) bool {
		if m.Status != ports.MsgSending || m.Attempts != claimed.Attempts {
			return false
		}
		move(m)
		return true
	}
}

// unclaimed applies move only while the message could still be claimed:
// queued, or sending with a stale claim.
func (s *Service) unclaimed(move func(*ports.Message)) func(*ports.Message) bool {
	return func(m *ports.Message) bool {
		stale := m.Status == ports.MsgSending && m.UpdatedAt.Before(s.staleBefore(s.d.Clock.Now()))
		if m.Status != ports.MsgQueued && !stale {
			return false
		}
		move(m)
		return true
	}
}

// retryable reports whether a send error may pass: the instance is only
// disconnected, or WhatsApp did not answer.
func retryable(err error) bool {
	if e := ports.AsError(err); e != nil && e.Reason == ports.ReasonNotConnected {
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
