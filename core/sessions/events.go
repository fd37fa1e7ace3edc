package sessions

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// eventTimeout bounds the database work of one WhatsApp event: the adapter
// holds the instance's next events until HandleEvent returns.
const eventTimeout = 15 * time.Second

// HandleEvent takes an event of the WhatsApp adapter: it persists status
// changes and publishes instance.status and instance.qr events. It is the
// adapter's OnEvent callback: it writes to the database (the adapter calls
// it from its own goroutine) but never waits for event subscribers.
// Events of an instance this node does not hold (Deps.Owner) are dropped.
func (s *Service) HandleEvent(ev ports.WAEvent) {
	if s.d.Owner != nil && !s.d.Owner.Owns(ev.Instance) {
		// A connection this node just let go of, reporting late: the
		// instance's new holder reports for it now.
		s.d.Log.Debug("WhatsApp event of an instance held elsewhere dropped", "instance", string(ev.Instance), "kind", string(ev.Kind))
		return
	}
	s.handle(ev)
}

// handle takes an event this node's to handle: one of the adapter's, or
// one the module makes itself.
func (s *Service) handle(ev ports.WAEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	switch {
	case ev.Kind == ports.WAStatus && ev.Status != nil:
		s.onStatus(ctx, ev)
	case ev.Kind == ports.WAQR && ev.QR != nil:
		s.onQR(ctx, ev)
	default:
		// Messages and receipts belong to the messaging module.
		s.d.Log.Debug("WhatsApp event not handled here", "instance", string(ev.Instance), "kind", string(ev.Kind))
	}
}

// onStatus persists a connection status with the linked device's details.
// Status qr waits for its first code (onQR stores it then): stored before
// the code is held, a client polling the instance would see qr and get
// not_awaiting_qr from GET /qr.
func (s *Service) onStatus(ctx context.Context, ev ports.WAEvent) {
	c := ev.Status
	if c.Status == ports.StatusQR && !s.holdsQR(ev.Instance) {
		return
	}
	if c.Status != ports.StatusQR {
		s.forgetQR(ev.Instance)
	}
	s.persistStatus(ctx, ev.Subscription, ev.Instance, c, ev.At)
}

// persistStatus stores a status reported for instance id of sub at at
// (zero: now) and announces it if it changed. False: the instance is gone
// (deleted while its connection was still reporting).
func (s *Service) persistStatus(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID,
	c *ports.WAStatusChange, at time.Time) bool {
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	change, err := s.transition(ctx, s.d.Stores.Instances, sub, id, func(i *ports.Instance) {
		applyStatus(i, c, at)
	})
	if ports.IsCode(err, ports.ENotFound) {
		s.forgetQR(id)
		return false
	}
	if err != nil {
		s.d.Log.Error("persist instance status", "instance", string(id), "status", string(c.Status), "err", err)
		return true
	}
	if c.Degraded {
		s.d.Log.Warn("instance keepalives failing", "instance", string(id))
	}
	if change.changed {
		s.d.Log.Info("instance status", "instance", string(id), "status", string(c.Status),
			"previous", string(change.prev), "reason", c.Reason)
	}
	s.publishStatus(ctx, change)
	return true
}

// applyStatus sets a reported status. The device's details come with
// connected; an unlinked device has no JID any more.
func applyStatus(i *ports.Instance, c *ports.WAStatusChange, at time.Time) {
	wasConnected := i.Status == ports.StatusConnected
	i.Status, i.StatusReason = c.Status, c.Reason
	switch c.Status {
	case ports.StatusConnected:
		if c.JID != "" {
			i.JID = c.JID
		}
		if c.PhoneNumber != "" {
			i.PhoneNumber = c.PhoneNumber
		}
		if c.PushName != "" {
			i.PushName = c.PushName
		}
		if !wasConnected {
			i.LastConnectedAt = &at
		}
	case ports.StatusLoggedOut:
		i.JID = ""
	}
}

// onQR keeps the code for GET /qr, then stores status qr (a change only
// for the first code of a pairing), then announces the code: whoever sees
// the status can fetch the code. A deleted instance's code is dropped.
func (s *Service) onQR(ctx context.Context, ev ports.WAEvent) {
	qr := QRCode{Code: ev.QR.Code, Attempt: ev.QR.Attempt, ExpiresAt: ev.QR.ExpiresAt}
	s.mu.Lock()
	s.qrs[ev.Instance] = qr
	s.mu.Unlock()
	if !s.persistStatus(ctx, ev.Subscription, ev.Instance, &ports.WAStatusChange{Status: ports.StatusQR}, ev.At) {
		return
	}
	s.events.Publish(ctx, ports.Event{
		Type:           ports.EventInstanceQR,
		SubscriptionID: ev.Subscription,
		InstanceID:     ev.Instance,
		Data:           ports.InstanceQRData{QR: qr.Code, Attempt: qr.Attempt, ExpiresAt: qr.ExpiresAt},
	})
}
