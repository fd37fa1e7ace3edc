package coretest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

var (
	_ ports.WebhookStore   = view{}
	_ ports.DeliveryStore  = view{}
	_ ports.DeliveryOutbox = view{}
)

// DeliveryOutbox returns the system-level view of the delivery backlog,
// for use outside transactions.
func (s *Store) DeliveryOutbox() ports.DeliveryOutbox { return view{s: s} }

// keptTime keeps t as the real stores do: UTC at microsecond precision.
func keptTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func keptTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := keptTime(*t)
	return &v
}

// storedWebhook copies w as the real stores keep it.
func storedWebhook(w ports.WebhookEndpoint) ports.WebhookEndpoint {
	w.Events = slices.Clone(w.Events)
	if w.Events == nil {
		w.Events = []string{}
	}
	w.CreatedAt, w.UpdatedAt = keptTime(w.CreatedAt), keptTime(w.UpdatedAt)
	if !w.RotatedAt.IsZero() {
		w.RotatedAt = keptTime(w.RotatedAt)
	}
	w.LastSuccessAt, w.FirstFailureAt = keptTimePtr(w.LastSuccessAt), keptTimePtr(w.FirstFailureAt)
	return w
}

// storedDelivery copies d as the real stores keep it.
func storedDelivery(d ports.WebhookDelivery) ports.WebhookDelivery {
	d.Payload = slices.Clone(d.Payload)
	d.CreatedAt, d.UpdatedAt = keptTime(d.CreatedAt), keptTime(d.UpdatedAt)
	d.NextAttemptAt = keptTimePtr(d.NextAttemptAt)
	return d
}

// CreateWebhook stores w; EConflict if the id exists.
func (v view) CreateWebhook(_ context.Context, sub ports.SubscriptionID, w ports.WebhookEndpoint) error {
	d, done, err := v.enter("CreateWebhook")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.webhooks[w.ID]; ok {
		return ports.Errorf(ports.EConflict, "webhook already exists")
	}
	w.SubscriptionID = sub
	d.webhooks[w.ID] = storedWebhook(w)
	return nil
}

// GetWebhook returns ENotFound if missing or another tenant's.
func (v view) GetWebhook(_ context.Context, sub ports.SubscriptionID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	d, done, err := v.enter("GetWebhook")
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	defer done()
	w, ok := d.webhooks[id]
	if !ok || w.SubscriptionID != sub {
		return ports.WebhookEndpoint{}, notFound("webhook")
	}
	return storedWebhook(w), nil
}

// ListWebhooks returns an instance's endpoints, oldest first.
func (v view) ListWebhooks(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID) ([]ports.WebhookEndpoint, error) {
	d, done, err := v.enter("ListWebhooks")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.WebhookEndpoint{}
	for _, w := range d.webhooks {
		if w.SubscriptionID == sub && w.InstanceID == inst {
			out = append(out, storedWebhook(w))
		}
	}
	slices.SortFunc(out, func(a, b ports.WebhookEndpoint) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out, nil
}

// UpdateWebhook applies fn to a copy and stores it unless fn fails.
func (v view) UpdateWebhook(_ context.Context, sub ports.SubscriptionID, id ports.WebhookID, fn func(*ports.WebhookEndpoint) error) (ports.WebhookEndpoint, error) {
	d, done, err := v.enter("UpdateWebhook")
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	defer done()
	w, ok := d.webhooks[id]
	if !ok || w.SubscriptionID != sub {
		return ports.WebhookEndpoint{}, notFound("webhook")
	}
	w = storedWebhook(w)
	if err := fn(&w); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	w.ID, w.SubscriptionID = id, sub
	d.webhooks[id] = storedWebhook(w)
	return storedWebhook(d.webhooks[id]), nil
}

// DeleteWebhook removes the endpoint and its deliveries.
func (v view) DeleteWebhook(_ context.Context, sub ports.SubscriptionID, id ports.WebhookID) error {
	d, done, err := v.enter("DeleteWebhook")
	if err != nil {
		return err
	}
	defer done()
	w, ok := d.webhooks[id]
	if !ok || w.SubscriptionID != sub {
		return notFound("webhook")
	}
	delete(d.webhooks, id)
	for did, dl := range d.deliveries {
		if dl.EndpointID == id {
			delete(d.deliveries, did)
		}
	}
	return nil
}

// CreateDelivery stores dl; EConflict if the id exists, or the event
// already has a delivery to the endpoint.
func (v view) CreateDelivery(_ context.Context, sub ports.SubscriptionID, dl ports.WebhookDelivery) error {
	d, done, err := v.enter("CreateDelivery")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.deliveries[dl.ID]; ok {
		return ports.Errorf(ports.EConflict, "delivery already exists")
	}
	for _, o := range d.deliveries {
		if o.EventID == dl.EventID && o.EndpointID == dl.EndpointID {
			return ports.Errorf(ports.EConflict, "the event already has a delivery to this endpoint")
		}
	}
	dl.SubscriptionID = sub
	d.deliveries[dl.ID] = storedDelivery(dl)
	return nil
}

// CreateDeliveries stores ds one by one, as CreateDelivery does; the
// caller's transaction undoes the ones before a conflict.
func (v view) CreateDeliveries(ctx context.Context, sub ports.SubscriptionID, ds []ports.WebhookDelivery) error {
	for _, dl := range ds {
		if err := v.CreateDelivery(ctx, sub, dl); err != nil {
			return err
		}
	}
	return nil
}

// GetDelivery returns ENotFound if missing or another tenant's.
func (v view) GetDelivery(_ context.Context, sub ports.SubscriptionID, id ports.DeliveryID) (ports.WebhookDelivery, error) {
	d, done, err := v.enter("GetDelivery")
	if err != nil {
		return ports.WebhookDelivery{}, err
	}
	defer done()
	dl, ok := d.deliveries[id]
	if !ok || dl.SubscriptionID != sub {
		return ports.WebhookDelivery{}, notFound("delivery")
	}
	return storedDelivery(dl), nil
}

// ListDeliveries pages through an endpoint's deliveries, newest first.
func (v view) ListDeliveries(_ context.Context, sub ports.SubscriptionID, endpoint ports.WebhookID, page ports.PageRequest) (ports.Page[ports.WebhookDelivery], error) {
	d, done, err := v.enter("ListDeliveries")
	if err != nil {
		return ports.Page[ports.WebhookDelivery]{}, err
	}
	defer done()
	var match []ports.WebhookDelivery
	for _, dl := range d.deliveries {
		if dl.SubscriptionID == sub && dl.EndpointID == endpoint {
			match = append(match, storedDelivery(dl))
		}
	}
	slices.SortFunc(match, func(a, b ports.WebhookDelivery) int { return strings.Compare(string(b.ID), string(a.ID)) })
	return pageOf(match, func(dl ports.WebhookDelivery) string { return string(dl.ID) }, page)
}

// UpdateDelivery applies fn to a copy and stores it unless fn fails.
func (v view) UpdateDelivery(_ context.Context, sub ports.SubscriptionID, id ports.DeliveryID, fn func(*ports.WebhookDelivery) error) (ports.WebhookDelivery, error) {
	d, done, err := v.enter("UpdateDelivery")
	if err != nil {
		return ports.WebhookDelivery{}, err
	}
	defer done()
	dl, ok := d.deliveries[id]
	if !ok || dl.SubscriptionID != sub {
		return ports.WebhookDelivery{}, notFound("delivery")
	}
	dl = storedDelivery(dl)
	if err := fn(&dl); err != nil {
		return ports.WebhookDelivery{}, err
	}
	dl.ID, dl.SubscriptionID = id, sub
	d.deliveries[id] = storedDelivery(dl)
	return storedDelivery(d.deliveries[id]), nil
}

// ListDue returns pending deliveries due before dueBefore, oldest due first.
func (v view) ListDue(_ context.Context, dueBefore time.Time, limit int) ([]ports.WebhookDelivery, error) {
	d, done, err := v.enter("ListDue")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.WebhookDelivery{}
	for _, dl := range d.deliveries {
		if dl.Status == ports.DeliveryPending && dl.NextAttemptAt != nil && dl.NextAttemptAt.Before(dueBefore) {
			out = append(out, storedDelivery(dl))
		}
	}
	slices.SortFunc(out, func(a, b ports.WebhookDelivery) int {
		return byAge(*a.NextAttemptAt, *b.NextAttemptAt, string(a.ID), string(b.ID))
	})
	return out[:min(max(limit, 0), len(out))], nil
}

// ListFailing returns enabled endpoints failing since at or before since,
// longest failing first.
func (v view) ListFailing(_ context.Context, since time.Time, limit int) ([]ports.WebhookEndpoint, error) {
	d, done, err := v.enter("ListFailing")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.WebhookEndpoint{}
	for _, w := range d.webhooks {
		if w.Enabled && w.FirstFailureAt != nil && !w.FirstFailureAt.After(since) {
			out = append(out, storedWebhook(w))
		}
	}
	slices.SortFunc(out, func(a, b ports.WebhookEndpoint) int {
		return byAge(*a.FirstFailureAt, *b.FirstFailureAt, string(a.ID), string(b.ID))
	})
	return out[:min(max(limit, 0), len(out))], nil
}
