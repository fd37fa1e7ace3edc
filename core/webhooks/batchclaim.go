package webhooks

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// A drain claims a run of its due deliveries in one statement instead of
// one each: in a backlog, the claim was half of a delivery's writes. The
// run is the due rows ahead with the same attempt count, all claimed
// against one reading of the endpoint. A claimed row then waits for its
// post under the lane, so two rules keep a batch as safe as a single
// claim: a row is posted only while its lease has at least half its
// length left (the HTTP timeout is at most half: no other drain can take
// it over meanwhile), and only while the endpoint in this process's cache
// is still the one claimed against (a change made here drops or replaces
// the cached entry). Rows not posted are given back, due at once.

// batchClaims are a drain's claimed rows not posted yet, and the
// endpoint they were claimed against.
type batchClaims struct {
	rows map[ports.DeliveryID]ports.WebhookDelivery
	w    ports.WebhookEndpoint
}

// claimRun claims next and the rows after it in due that have its
// attempt count, when there are several and the endpoint is enabled in
// the cache; nothing otherwise (deliver then makes next alone).
func (s *Service) claimRun(ctx context.Context, b *batchClaims, next ports.WebhookDelivery, due []ports.WebhookDelivery) error {
	ids := []ports.DeliveryID{next.ID}
	for _, d := range due {
		if d.Attempts != next.Attempts || s.inFlight(d, s.d.Clock.Now()) {
			break
		}
		ids = append(ids, d.ID)
	}
	if len(ids) < 2 {
		return nil
	}
	w, err := s.cachedEndpoint(ctx, next.SubscriptionID, next.EndpointID)
	if err != nil || !w.Enabled {
		return nil // deliver decides, one row at a time
	}
	now := s.d.Clock.Now()
	lease := now.Add(s.cfg.AttemptLease)
	claimed, err := s.d.Stores.Deliveries.ClaimDeliveries(ctx, next.SubscriptionID, ports.DeliveryClaim{
		Endpoint: next.EndpointID, Attempts: next.Attempts, EndpointVersion: w.UpdatedAt, At: now, LeaseEnd: lease,
	}, ids)
	if err != nil {
		return fmt.Errorf("claim deliveries of %s: %w", next.EndpointID, err)
	}
	rows := map[ports.DeliveryID]ports.WebhookDelivery{next.ID: next}
	for _, d := range due[:len(ids)-1] {
		rows[d.ID] = d
	}
	b.w = w
	for _, id := range claimed {
		d := rows[id]
		d.Attempts++
		d.UpdatedAt, d.NextAttemptAt = now, &lease
		b.rows[id] = d
		s.claims.note(id, d.Attempts)
	}
	return nil
}

// take returns d as claimed in the batch, and the endpoint as cached
// now (its outcome fields current), if d is claimed and may still be
// posted; a row that may not is given back.
func (s *Service) take(ctx context.Context, b *batchClaims, d ports.WebhookDelivery) (ports.WebhookDelivery, ports.WebhookEndpoint, bool, error) {
	c, ok := b.rows[d.ID]
	if !ok {
		return d, b.w, false, nil
	}
	delete(b.rows, d.ID)
	w, cached := s.endpoints.get(c.SubscriptionID, c.EndpointID)
	fresh := s.d.Clock.Now().Add(s.cfg.AttemptLease / 2).Before(*c.NextAttemptAt)
	if cached && fresh && samePost(w, b.w) {
		return c, w, true, nil
	}
	return d, b.w, false, s.giveBack(ctx, c)
}

// samePost tells whether a post to w goes where and as a post to was
// would: enabled, the same URL, signed with the same secrets. The
// outcomes of this drain's own attempts change other fields (and
// UpdatedAt) without making the batch stale.
func samePost(w, was ports.WebhookEndpoint) bool {
	return w.Enabled && w.URL == was.URL && w.Secret == was.Secret &&
		w.PreviousSecret == was.PreviousSecret && w.RotatedAt.Equal(was.RotatedAt)
}

// drainOne makes next, whose successors in the drain's batch read are
// due: from the batch's claims, claiming a run first when next is not
// among them.
func (s *Service) drainOne(ctx context.Context, b *batchClaims, next ports.WebhookDelivery, due []ports.WebhookDelivery) error {
	if _, ok := b.rows[next.ID]; !ok {
		if err := s.claimRun(ctx, b, next, due); err != nil {
			return err
		}
	}
	c, w, ok, err := s.take(ctx, b, next)
	if err != nil {
		return err
	}
	if ok {
		return s.attempt(ctx, c, w)
	}
	return s.deliver(ctx, next)
}

// giveBack undoes the claim of a row not posted: its attempt count as
// before and due at once (the rerun finds it as if never claimed).
func (s *Service) giveBack(ctx context.Context, c ports.WebhookDelivery) error {
	was := c.Attempts
	now := s.d.Clock.Now()
	c.Attempts--
	c.NextAttemptAt = &now
	_, err := s.save(ctx, c, was)
	return err
}

// giveBackAll gives back what a drain that ends claimed and did not post.
func (s *Service) giveBackAll(ctx context.Context, b *batchClaims) {
	for id, c := range b.rows {
		if err := s.giveBack(ctx, c); err != nil {
			s.d.Log.Warn("give a claimed delivery back; it is due when its lease ends", "delivery", string(id), "err", err)
		}
	}
	clear(b.rows)
}
