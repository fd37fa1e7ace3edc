package coretest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// DueDeliveries returns up to limit of the endpoint's pending deliveries
// due at now, oldest first.
func (v view) DueDeliveries(_ context.Context, sub ports.SubscriptionID, endpoint ports.WebhookID, now time.Time, limit int) ([]ports.WebhookDelivery, error) {
	d, done, err := v.enter("DueDeliveries")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.WebhookDelivery{}
	for _, dl := range d.deliveries {
		due := dl.Status == ports.DeliveryPending && dl.NextAttemptAt != nil && !dl.NextAttemptAt.After(now)
		if due && dl.SubscriptionID == sub && dl.EndpointID == endpoint {
			out = append(out, storedDelivery(dl))
		}
	}
	slices.SortFunc(out, func(a, b ports.WebhookDelivery) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out[:min(max(limit, 0), len(out))], nil
}

// ClaimDelivery counts the attempt if the delivery and its endpoint are
// as c expects them.
func (v view) ClaimDelivery(_ context.Context, sub ports.SubscriptionID, c ports.DeliveryClaim) (bool, error) {
	d, done, err := v.enter("ClaimDelivery")
	if err != nil {
		return false, err
	}
	defer done()
	return d.claim(sub, c), nil
}

// ClaimDeliveries claims each of ids as ClaimDelivery does, in one call.
func (v view) ClaimDeliveries(_ context.Context, sub ports.SubscriptionID, c ports.DeliveryClaim, ids []ports.DeliveryID) ([]ports.DeliveryID, error) {
	d, done, err := v.enter("ClaimDeliveries")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.DeliveryID{}
	for _, id := range ids {
		c.ID = id
		if d.claim(sub, c) {
			out = append(out, id)
		}
	}
	return out, nil
}

// claim is one delivery's claim; the caller holds the store.
func (d *state) claim(sub ports.SubscriptionID, c ports.DeliveryClaim) bool {
	dl, ok := d.deliveries[c.ID]
	if !ok || dl.SubscriptionID != sub || dl.EndpointID != c.Endpoint || dl.Status != ports.DeliveryPending || dl.Attempts != c.Attempts {
		return false
	}
	w, ok := d.webhooks[c.Endpoint]
	if !ok || w.SubscriptionID != sub || !w.Enabled || !w.UpdatedAt.Equal(keptTime(c.EndpointVersion)) {
		return false
	}
	lease := c.LeaseEnd
	dl.Attempts, dl.UpdatedAt, dl.NextAttemptAt = c.Attempts+1, c.At, &lease
	d.deliveries[c.ID] = storedDelivery(dl)
	return true
}

// SaveAttempt writes d's outcome if the delivery is still pending with was
// attempts made.
func (v view) SaveAttempt(_ context.Context, sub ports.SubscriptionID, d ports.WebhookDelivery, was int) (bool, error) {
	s, done, err := v.enter("SaveAttempt")
	if err != nil {
		return false, err
	}
	defer done()
	dl, ok := s.deliveries[d.ID]
	if !ok || dl.SubscriptionID != sub || dl.Status != ports.DeliveryPending || dl.Attempts != was {
		return false, nil
	}
	dl.Status, dl.Attempts, dl.LastStatusCode = d.Status, d.Attempts, d.LastStatusCode
	dl.LastError, dl.LastResponse, dl.LatencyMS = d.LastError, d.LastResponse, d.LatencyMS
	dl.NextAttemptAt, dl.UpdatedAt = d.NextAttemptAt, d.UpdatedAt
	s.deliveries[d.ID] = storedDelivery(dl)
	return true, nil
}
