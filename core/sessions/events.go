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
// changes with their instance.status and instance.qr events, in one
// transaction each. It is the adapter's OnEvent callback: it writes to the
// database (the adapter calls it from its own goroutine) and wakes the
// event dispatcher without waiting for it or for webhooks.
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
	if c.Status == ports.StatusQR && !s.holdsQR(ctx, ev.Instance) {
		return
	}
	if c.Status != ports.StatusQR {
		s.forgetQR(ctx, ev.Instance)
	}
	s.persistStatus(ctx, ev.Subscription, ev.Instance, c, ev.At, nil)
}

// persistStatus stores a status reported for instance id of sub at at
// (zero: now) with its event if it changed, and then, in the same
// transaction. False: the instance is gone (deleted while its connection
// was still reporting).
func (s *Service) persistStatus(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID,
	c *ports.WAStatusChange, at time.Time, then func(ctx context.Context, st ports.Stores, c statusChange) error) bool {
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	change, err := s.transitionTx(ctx, sub, id, func(i *ports.Instance) {
		applyStatus(i, c, at)
	}, then)
	if ports.IsCode(err, ports.ENotFound) {
		s.forgetQR(ctx, id)
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

// onQR keeps the code for GET /qr (on every node, through
// Deps.QRCodes), then stores status qr (a change only
// for the first code of a pairing) and the instance.qr event in one
// transaction, the code's event after the status's: whoever sees the
// status can fetch the code. A deleted instance's code is dropped.
//
// The QR event goes through the log like every event (SPEC §10), though
// it is short-lived and, at up to three per pairing, frequent only while
// linking: one path keeps its order with the status events, and the
// retention purge removes the expired codes.
func (s *Service) onQR(ctx context.Context, ev ports.WAEvent) {
	qr := QRCode{Code: ev.QR.Code, Attempt: ev.QR.Attempt, ExpiresAt: ev.QR.ExpiresAt}
	if err := s.d.QRCodes.PutQR(ctx, ev.Instance, *ev.QR); err != nil {
		// Not shown anywhere: the status stays as it was, and the next
		// code (or the QR timeout) moves the pairing on.
		s.d.Log.Error("keep the QR code", "instance", string(ev.Instance), "err", err)
		return
	}
	data := ports.InstanceQRData{QR: qr.Code, Attempt: qr.Attempt, ExpiresAt: qr.ExpiresAt}
	s.persistStatus(ctx, ev.Subscription, ev.Instance, &ports.WAStatusChange{Status: ports.StatusQR}, ev.At,
		func(ctx context.Context, st ports.Stores, _ statusChange) error {
			_, err := s.d.Events.Append(ctx, st, ports.EventInstanceQR, ev.Subscription, ev.Instance, data)
			return err
		})
}
