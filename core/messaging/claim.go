package messaging

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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

// claimReady claims the messages of rs, in order, each under its
// WhatsApp id with its sending event, and records recs (the outcomes of
// the sends before them) in the same transaction, so that a pipelined
// run writes once a batch. The claims stop at the first message not to
// be sent by this run (another run has it, or it is past sending): the
// ones after it wait behind it, for order. It returns the claimed ones,
// in order; none when the first is not to be sent. recs are recorded
// all the same.
func (s *Service) claimReady(ctx context.Context, rs []*readied, recs []*pending) ([]*prepared, error) {
	// Each send's time counts from before its claim, so that the claim
	// is stale only once the send has certainly given up.
	out := make([]*prepared, len(rs))
	for i := range rs {
		sendCtx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
		out[i] = &prepared{ctx: sendCtx, cancel: cancel, timeout: s.cfg.SendTimeout}
	}
	claimed, err := s.writeBatch(ctx, rs, recs)
	if err != nil && len(recs) > 0 {
		// Not even the claims are written: the outcomes still are.
		if _, rerr := s.writeBatch(ctx, nil, recs); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	for i, p := range out {
		if i >= len(claimed) {
			p.cancel()
			continue
		}
		p.claimed = claimed[i]
		p.out = outbound(claimed[i], rs[i].md)
		p.out.ID = claimed[i].WAMessageID
		rs[i].extras.apply(claimed[i], &p.out)
	}
	return out[:len(claimed)], err
}

// writeBatch is claimReady's transaction: it returns the messages
// claimed, none on an error.
func (s *Service) writeBatch(ctx context.Context, rs []*readied, recs []*pending) ([]ports.Message, error) {
	now := s.d.Clock.Now()
	var claimed []ports.Message
	var sub ports.SubscriptionID
	err := s.inRecordTx(ctx, func(ctx context.Context, st ports.Stores) error {
		// The claims first, then the records' message rows, then the
		// day's counters, then the event cursor: the order a receipt's
		// transaction locks its rows in, so that the two never wait on
		// each other in a circle. All commit together.
		var events []ports.Message
		for _, r := range rs {
			c, err := s.claim(ctx, st, r.m, now)
			if ports.IsCode(err, ports.EConflict) || ports.IsCode(err, ports.ENotFound) {
				break
			}
			if err != nil {
				return fmt.Errorf("claim %s: %w", r.m.ID, err)
			}
			claimed = append(claimed, c)
			if r.m.Status != ports.MsgSending { // a reclaim is no news
				events = append(events, c)
			}
		}
		recorded, err := s.applyAll(ctx, st, recs)
		if err != nil {
			return err
		}
		// The events last: appending locks the subscription's event
		// cursor until the commit. The outcomes happened first.
		for _, e := range append(recorded, events...) {
			if err := s.appendStatus(ctx, st, e); err != nil {
				return err
			}
			sub = e.SubscriptionID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sub != "" {
		s.d.Events.Wake(ctx, sub)
	}
	return claimed, nil
}

// claim claims m, read a moment ago, under a new WhatsApp id unless it
// has one: in one write while it is as read, else by ClaimForSend, which
// says why it cannot be claimed.
func (s *Service) claim(ctx context.Context, st ports.Stores, m ports.Message, now time.Time) (ports.Message, error) {
	waID, stale := newWAMessageID(now, m.From), s.staleBefore(now)
	c, ok, err := st.Messages.ClaimKnown(ctx, m, now, stale, waID)
	if err != nil || ok {
		return c, err
	}
	return st.Messages.ClaimForSend(ctx, m.SubscriptionID, m.ID, now, stale, waID)
}

// applyAll applies the moves of recs through st, then counts them: the
// message rows first, then each instance's counters once, in the order
// of the instances' ids (claimReady's lock order). It returns the
// messages whose status moved, to announce.
func (s *Service) applyAll(ctx context.Context, st ports.Stores, recs []*pending) ([]ports.Message, error) {
	var moved []ports.Message
	counts := map[ports.InstanceID]ports.Counters{}
	counted := map[ports.InstanceID]ports.Message{} // the instance's tenant and a message, to count on
	for _, rec := range recs {
		out, c, statusMoved, err := s.updateClaimed(ctx, st, rec.claimed, rec.move)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", rec.claimed.ID, err)
		}
		if statusMoved {
			moved = append(moved, out)
		}
		if !c.IsZero() {
			counts[out.InstanceID] = counts[out.InstanceID].Add(c)
			counted[out.InstanceID] = out
		}
	}
	for _, inst := range slices.Sorted(maps.Keys(counts)) {
		if err := s.addStats(ctx, st, counted[inst], counts[inst]); err != nil {
			return nil, err
		}
	}
	return moved, nil
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

// recordAll stores outcomes, in one transaction.
func (s *Service) recordAll(ctx context.Context, recs []*pending) error {
	if len(recs) == 0 {
		return nil
	}
	_, err := s.writeBatch(ctx, nil, recs)
	return err
}

// unclaimAll gives back the claims of ps, which were never sent (the
// messages are queued again with their ids, the attempts not counted),
// and records recs, in one transaction.
func (s *Service) unclaimAll(ctx context.Context, ps []*prepared, recs []*pending) error {
	for _, p := range ps {
		p.cancel()
		recs = append(recs, &pending{claimed: p.claimed, move: s.stillClaimed(p.claimed, func(m *ports.Message) {
			m.Status = ports.MsgQueued
			m.Attempts--
		})})
	}
	return s.recordAll(ctx, recs)
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
	out, c, moved, err := s.update(ctx, st, m, move)
	if err != nil {
		return out, false, err
	}
	if err := s.addStats(ctx, st, out, c); err != nil {
		return out, false, err
	}
	return out, moved, nil
}

// update is apply without the counting: it returns what the move adds
// to the day's counters.
func (s *Service) update(ctx context.Context, st ports.Stores, m ports.Message, move func(*ports.Message) bool) (out ports.Message, c ports.Counters, moved bool, err error) {
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
		return out, c, false, nil
	}
	if err != nil {
		return out, c, false, err
	}
	return out, statusCounters(before, out), out.Status != before.Status, nil
}

// updateClaimed is update for the outcome of a send, whose move changes
// only the columns an outcome does (SetSendOutcome): it writes the move
// applied to the message as claimed, without reading it, unless the
// message moved on since its claim (a receipt came first, a claim went
// stale and another worker took it); then it takes update's way, and
// the move applies to the message as it is by now.
func (s *Service) updateClaimed(ctx context.Context, st ports.Stores, claimed ports.Message, move func(*ports.Message) bool) (out ports.Message, c ports.Counters, moved bool, err error) {
	next := claimed // the moves replace the time pointers, never write through them
	if move(&next) {
		next.UpdatedAt = s.d.Clock.Now()
		out, ok, err := st.Messages.SetSendOutcome(ctx, claimed, next)
		if err != nil {
			return out, c, false, err
		}
		if ok {
			return out, statusCounters(claimed, out), out.Status != claimed.Status, nil
		}
	}
	return s.update(ctx, st, claimed, move)
}

// errUnchanged aborts an update that has nothing to write.
var errUnchanged = errors.New("unchanged")
