package messaging

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// The steps of one send: ready (what goes out), claimReady (the claim,
// which fixes the WhatsApp id before anything goes out, in the
// transaction that records the outcome of the send before it when the
// run has one), the send itself (worker.go, drain.go), outcome and
// record.

// readied is a message whose send is ready to be claimed.
type readied struct {
	m      ports.Message
	md     *ports.MessageMedia
	extras sendExtras
}

// prepared is a message claimed for its send, with what goes out.
type prepared struct {
	claimed ports.Message
	out     ports.WAOutbound
	// ctx bounds the send: SendTimeout from before the claim, so that the
	// claim is stale only once this send has certainly given up.
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
}

// fresh reports whether p has at least half of SendTimeout left to send:
// a message claimed ahead waited for the send before it.
func (p *prepared) fresh() bool {
	d, ok := p.ctx.Deadline()
	return !ok || time.Until(d) >= p.timeout/2
}

// ready reads what m's send needs: its instance, its file, the extras of
// the outbound message. It returns nil, nil when m cannot go out at all
// (its instance unlinked, its file gone): then m is failed here.
func (s *Service) ready(ctx context.Context, m ports.Message) (*readied, error) {
	inst, err := s.d.Stores.Instances.GetInstance(ctx, m.SubscriptionID, m.InstanceID)
	if err != nil && !ports.IsCode(err, ports.ENotFound) {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	if err != nil || inst.Status.Unlinked() {
		// Unlinked since it was accepted: it will not come back by itself.
		return nil, s.finish(ctx, m, s.unclaimed(func(m *ports.Message) { s.failed(m, ports.ErrNotConnected()) }))
	}
	return s.readyLinked(ctx, m)
}

// readyLinked is ready for a message whose instance is known to be
// linked: the one after a message whose send has just gone out. Should
// the instance be unlinked meanwhile, that send fails as not connected,
// which stops the run; the next run's ready fails the messages.
func (s *Service) readyLinked(ctx context.Context, m ports.Message) (*readied, error) {
	md, err := s.loadMedia(ctx, m)
	if ports.IsCode(err, ports.ENotFound) {
		return nil, s.finish(ctx, m, s.unclaimed(func(m *ports.Message) {
			s.failed(m, ports.ReasonError(ports.EInternal, "media_missing", "the file of the message is gone"))
		}))
	}
	if err != nil {
		return nil, err
	}
	return &readied{m: m, md: md, extras: s.extras(ctx, m)}, nil
}

// claimReady claims r's message under its WhatsApp id, with its sending
// event, and records prev (the outcome of the send before it; nil when
// there is none) in the same transaction, so that a pipelined run writes
// once a message. It returns nil, nil when the message is not to be sent
// by this run (another run has it, or it is past sending); prev is
// recorded all the same.
func (s *Service) claimReady(ctx context.Context, r *readied, prev *pending) (*prepared, error) {
	m := r.m
	sendCtx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	now := s.d.Clock.Now()
	var claimed ports.Message
	var claimErr error
	var news bool
	err := s.inRecordTx(ctx, func(ctx context.Context, st ports.Stores) error {
		// The claim first, then the record: rows are locked in the order a
		// receipt's transaction takes them (the message, the day's
		// counters, the event cursor), so the two never wait on each
		// other in a circle. Both commit together.
		var events []ports.Message
		claimed, claimErr = st.Messages.ClaimForSend(ctx, m.SubscriptionID, m.ID, now, s.staleBefore(now), newWAMessageID(now, m.From))
		switch {
		case claimErr == nil && m.Status != ports.MsgSending:
			// A reclaim (m was sending already) is no news.
			events = append(events, claimed)
		case claimErr != nil && !ports.IsCode(claimErr, ports.EConflict) && !ports.IsCode(claimErr, ports.ENotFound):
			return fmt.Errorf("claim %s: %w", m.ID, claimErr)
		}
		if prev != nil {
			out, moved, err := s.apply(ctx, st, prev.claimed, prev.move)
			if err != nil {
				return fmt.Errorf("record %s: %w", prev.claimed.ID, err)
			}
			if moved {
				events = append([]ports.Message{out}, events...)
			}
		}
		// The events last: appending locks the subscription's event
		// cursor until the commit.
		for _, e := range events {
			if err := s.appendStatus(ctx, st, e); err != nil {
				return err
			}
		}
		news = len(events) > 0
		return nil
	})
	if err != nil && prev != nil {
		// Not even the claim is written: the outcome before it still is.
		if rerr := s.record(ctx, prev); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err == nil && news {
		s.d.Events.Wake(ctx, m.SubscriptionID)
	}
	if err != nil || claimErr != nil {
		cancel()
		return nil, err // EConflict, ENotFound: another run has it, or it is past sending
	}
	out := outbound(claimed, r.md)
	out.ID = claimed.WAMessageID
	r.extras.apply(claimed, &out)
	return &prepared{claimed: claimed, out: out, ctx: sendCtx, cancel: cancel, timeout: s.cfg.SendTimeout}, nil
}

// pending is the outcome of a send, to record: the message as claimed and
// the status move.
type pending struct {
	claimed ports.Message
	move    func(*ports.Message) bool
}

// outcome is what p's send came to: rec is the move to record (sent,
// failed, or queued again), and retry is EUnavailable when the send may
// pass later (the instance only disconnected, or WhatsApp did not answer,
// within MaxAge), to retry the job with backoff; nil otherwise.
func (s *Service) outcome(p *prepared, sent ports.WASent, err error) (rec *pending, retry error) {
	claimed := p.claimed
	rec = &pending{claimed: claimed}
	switch {
	case err == nil:
		rec.move = func(m *ports.Message) bool { return s.sent(m, claimed, sent) }
	case !retryable(err), s.d.Clock.Now().Sub(claimed.CreatedAt) >= s.cfg.MaxAge:
		rec.move = s.stillClaimed(claimed, func(m *ports.Message) { s.failed(m, err) })
	default:
		// Back to queued with its id: should this send have gone out after
		// all, the next one carries the same id and the recipient drops it.
		rec.move = s.stillClaimed(claimed, requeue(err))
		// The queue retries with backoff; instance_not_connected is a
		// conflict for a caller, but for the job it is a wait.
		retry = ports.Errorf(ports.EUnavailable, "send %s: %v", claimed.ID, err)
	}
	return rec, retry
}

// record stores an outcome on its own.
func (s *Service) record(ctx context.Context, rec *pending) error {
	return s.finish(ctx, rec.claimed, rec.move)
}

// unclaim gives back the claim of p, which was never sent: the message is
// queued again with its id, and the attempt is not counted.
func (s *Service) unclaim(ctx context.Context, p *prepared) error {
	p.cancel()
	return s.finish(ctx, p.claimed, s.stillClaimed(p.claimed, func(m *ports.Message) {
		m.Status = ports.MsgQueued
		m.Attempts--
	}))
}

// finish applies a status move to m, stores it and announces it. move
// reports whether it changed anything; when it did not, nothing is
// written or announced.
func (s *Service) finish(ctx context.Context, m ports.Message, move func(*ports.Message) bool) error {
	var moved bool
	err := s.inRecordTx(ctx, func(ctx context.Context, st ports.Stores) error {
		out, ok, err := s.apply(ctx, st, m, move)
		if err != nil || !ok {
			return err
		}
		moved = true
		return s.appendStatus(ctx, st, out)
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", m.ID, err)
	}
	if moved {
		s.d.Events.Wake(ctx, m.SubscriptionID)
	}
	return nil
}

// inRecordTx runs fn in a transaction that runs to its end even if the
// run was just abandoned: an outcome must be recorded.
func (s *Service) inRecordTx(ctx context.Context, fn func(ctx context.Context, st ports.Stores) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.d.Tx.InTx(ctx, fn)
}

// apply applies move to m through st (a transaction's stores) and counts
// it; moved reports whether the status moved (its event is the caller's
// to append). Nothing is written when move changes nothing.
func (s *Service) apply(ctx context.Context, st ports.Stores, m ports.Message, move func(*ports.Message) bool) (out ports.Message, moved bool, err error) {
	var before ports.Message
	out, err = st.Messages.UpdateMessage(ctx, m.SubscriptionID, m.ID, func(m *ports.Message) error {
		before = *m // the moves replace the time pointers, never write through them
		if !move(m) {
			return errUnchanged
		}
		m.UpdatedAt = s.d.Clock.Now()
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return out, false, nil
	}
	if err != nil {
		return out, false, err
	}
	if err := s.addStats(ctx, st, out, statusCounters(before, out)); err != nil {
		return out, false, err
	}
	return out, out.Status != before.Status, nil
}

// errUnchanged aborts an update that has nothing to write.
var errUnchanged = errors.New("unchanged")
