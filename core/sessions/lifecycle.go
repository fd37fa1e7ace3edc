package sessions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// QRCode is an instance's current QR code.
type QRCode struct {
	Code      string
	Attempt   int
	ExpiresAt time.Time
}

// eventTimeout bounds the database work of one WhatsApp event: the adapter
// holds the instance's next events until HandleEvent returns.
const eventTimeout = 15 * time.Second

// restoreParallelism is how many reconnects Restore has in flight: each
// waits for a network handshake, so a few at once shorten the start a lot.
const restoreParallelism = 16

// Connect starts an instance's connection (QR flow if not linked). 202 at
// the edge: progress arrives as instance.status/instance.qr events.
// EForbidden for API keys; ENotFound for another tenant's instance.
// Audited.
func (s *Service) Connect(ctx context.Context, p ports.Principal, id ports.InstanceID) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	if s.d.Leases != nil {
		err := s.d.Leases.Acquire(ctx, id)
		switch {
		case ports.IsCode(err, ports.EConflict) && active(inst.Status):
			// Connecting or connected through the node that holds it:
			// connecting again is not an error.
			return nil
		case ports.IsCode(err, ports.EConflict):
			return ports.Errorf(ports.EUnavailable, "the instance is being handed over between nodes: try again in a few seconds")
		case err != nil:
			return err
		}
	}
	return s.connect(ctx, inst, &p)
}

// Adopt connects, on this node, an instance whose lease it has just
// claimed (core/ownership), as Restore does at start: a linked device logs
// in again; a pairing whose node went away cannot go on (its QR codes died
// with that node), so it becomes disconnected with reason "interrupted".
// An instance no longer wanted connected is left alone. ENotFound if it
// was deleted.
func (s *Service) Adopt(ctx context.Context, id ports.InstanceID) error {
	if s.d.Directory == nil {
		return errors.New("adopt instance: no instance directory")
	}
	inst, err := s.d.Directory.LookupInstance(ctx, id)
	if err != nil {
		return fmt.Errorf("look up instance: %w", err)
	}
	switch {
	case !active(inst.Status):
		return nil
	case inst.JID == "":
		s.remember(inst.ID, inst.SubscriptionID)
		s.handle(ports.WAEvent{Instance: inst.ID, Kind: ports.WAStatus, At: s.d.Clock.Now(),
			Status: &ports.WAStatusChange{Status: ports.StatusDisconnected, Reason: "interrupted"}})
		return nil
	}
	return s.connect(ctx, inst, nil)
}

// Drop closes the instance's connection on this node without changing its
// stored status, for a lease that another node takes over. EUnavailable
// when the WhatsApp adapter cannot close one connection silently.
func (s *Service) Drop(ctx context.Context, id ports.InstanceID) error {
	wa, err := s.whatsApp()
	if err != nil {
		return err
	}
	r, ok := wa.(ports.WAReleaser)
	if !ok {
		return ports.Errorf(ports.EUnavailable, "the WhatsApp adapter cannot hand instances over")
	}
	s.forgetQR(id)
	if err := r.Release(ctx, id); err != nil {
		return fmt.Errorf("release %s: %w", id, err)
	}
	return nil
}

// connect asks the adapter to connect inst; p is the caller to audit, nil
// for the server's own reconnects.
//
// An instance that is not connecting, pairing or connected yet is set to
// connecting first, so that every event of the adapter comes after it and
// wins. If the adapter refuses, the status goes back to what it was: the
// attempt never started.
func (s *Service) connect(ctx context.Context, inst ports.Instance, p *ports.Principal) error {
	wa, err := s.whatsApp()
	if err != nil {
		return err
	}
	s.remember(inst.ID, inst.SubscriptionID)
	starting := !active(inst.Status)
	var change statusChange
	if starting || p != nil {
		err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
			if starting {
				var err error
				change, err = s.transition(ctx, st.Instances, inst.SubscriptionID, inst.ID, func(i *ports.Instance) {
					if !active(i.Status) {
						i.Status, i.StatusReason = ports.StatusConnecting, ""
					}
				})
				if err != nil {
					return fmt.Errorf("set connecting: %w", err)
				}
			}
			if p == nil {
				return nil
			}
			return s.audit(ctx, st.Audit, s.entry(*p, "instance.connect", inst.ID))
		})
		if err != nil {
			return err
		}
		s.publishStatus(ctx, change)
	}
	opt := ports.ConnectOptions{ProxyURL: inst.ProxyURL, JID: inst.JID}
	if inst.Status == ports.StatusCreated || inst.Status == ports.StatusLoggedOut {
		opt.JID = "" // never linked, or unlinked: pair a new device
	}
	if err := wa.Connect(ctx, inst.ID, opt); err != nil {
		if change.changed {
			s.undoConnecting(ctx, change)
		}
		return fmt.Errorf("connect %s: %w", inst.ID, err)
	}
	return nil
}

// undoConnecting puts back the status that Connect replaced, unless an
// event of the adapter has moved it on since.
func (s *Service) undoConnecting(ctx context.Context, c statusChange) {
	back, err := s.transition(ctx, s.d.Stores.Instances, c.inst.SubscriptionID, c.inst.ID, func(i *ports.Instance) {
		if i.Status == ports.StatusConnecting && i.StatusReason == "" {
			i.Status, i.StatusReason = c.prev, c.prevReason
		}
	})
	if err != nil {
		s.d.Log.Error("restore the status after a refused connect", "instance", string(c.inst.ID), "err", err)
		return
	}
	s.publishStatus(ctx, back)
}

// QR returns the current QR code. EConflict (not_awaiting_qr) unless the
// instance is in status qr with a live code.
func (s *Service) QR(ctx context.Context, p ports.Principal, id ports.InstanceID) (QRCode, error) {
	if err := p.RequireUser(); err != nil {
		return QRCode{}, err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return QRCode{}, fmt.Errorf("get instance: %w", err)
	}
	s.mu.Lock()
	qr, ok := s.qrs[id]
	s.mu.Unlock()
	if inst.Status != ports.StatusQR || !ok || !s.d.Clock.Now().Before(qr.ExpiresAt) {
		return QRCode{}, errNotAwaitingQR()
	}
	return qr, nil
}

// PairCode asks for a code to link by phone number. EInvalid for a bad
// phone number; EConflict (not_awaiting_qr) unless the instance is pairing;
// ERateLimited past the instance's or the subscription's allowance (each
// code sends a linking prompt to someone's phone). The QR codes stop once a
// code is handed out.
func (s *Service) PairCode(ctx context.Context, p ports.Principal, id ports.InstanceID, phone string) (string, error) {
	if err := p.RequireUser(); err != nil {
		return "", err
	}
	digits, ok := phoneDigits(phone)
	if !ok {
		return "", ports.InvalidFields(ports.FieldError{Field: "phoneNumber", Message: phoneRule})
	}
	wa, err := s.whatsApp()
	if err != nil {
		return "", err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return "", fmt.Errorf("get instance: %w", err)
	}
	if inst.Status != ports.StatusQR {
		return "", errNotAwaitingQR()
	}
	if err := s.takePairCode(ctx, inst); err != nil {
		return "", err
	}
	code, err := wa.PairCode(ctx, id, digits)
	if err != nil {
		return "", fmt.Errorf("pair code for %s: %w", id, err)
	}
	s.forgetQR(id)
	return code, nil
}

// Disconnect closes the connection and keeps the link (reason manual).
// Audited.
func (s *Service) Disconnect(ctx context.Context, p ports.Principal, id ports.InstanceID) error {
	return s.stop(ctx, p, id, "instance.disconnect", func(ctx context.Context, wa ports.WhatsApp, inst ports.Instance) error {
		return wa.Disconnect(ctx, inst.ID)
	}, func(i *ports.Instance) {
		i.Status, i.StatusReason = ports.StatusDisconnected, "manual"
	})
}

// Logout unlinks the device and deletes its credentials (status
// logged_out, reason manual, JID cleared). Audited.
func (s *Service) Logout(ctx context.Context, p ports.Principal, id ports.InstanceID) error {
	return s.stop(ctx, p, id, "instance.logout", s.unlink, func(i *ports.Instance) {
		i.Status, i.StatusReason, i.JID = ports.StatusLoggedOut, "manual", ""
	})
}

// stop runs a disconnect or logout: the adapter call, then the status it
// leads to with the audit entry. The adapter reports the same status
// itself when it had a connection; persisting it here covers the case
// where it had none (after a restart), and the second report changes
// nothing. Instances that never connected or are unlinked stay as they are.
func (s *Service) stop(ctx context.Context, p ports.Principal, id ports.InstanceID, action string,
	call func(context.Context, ports.WhatsApp, ports.Instance) error, set func(*ports.Instance)) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	wa, err := s.whatsApp()
	if err != nil {
		return err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	s.remember(id, inst.SubscriptionID)
	if err := call(ctx, wa, inst); err != nil {
		return fmt.Errorf("%s %s: %w", action, id, err)
	}
	s.forgetQR(id)
	var change statusChange
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		change, err = s.transition(ctx, st.Instances, p.SubscriptionID, id, func(i *ports.Instance) {
			if i.Status != ports.StatusCreated && i.Status != ports.StatusLoggedOut {
				set(i)
			}
		})
		if err != nil {
			return fmt.Errorf("set status: %w", err)
		}
		return s.audit(ctx, st.Audit, s.entry(p, action, id))
	})
	if err != nil {
		return err
	}
	s.publishStatus(ctx, change)
	return nil
}

// unlink removes the device of inst: by its JID when the adapter can (it
// may have no connection for it in this process), else by Logout.
func (s *Service) unlink(ctx context.Context, wa ports.WhatsApp, inst ports.Instance) error {
	if r, ok := wa.(ports.WADeviceRemover); ok && inst.JID != "" {
		return r.RemoveDevice(ctx, inst.ID, inst.JID)
	}
	return wa.Logout(ctx, inst.ID)
}

// release is Delete's unlink: a linked device is removed so that it does
// not stay listed on the phone, a pairing in progress is stopped. Failures
// are logged: the delete goes on.
func (s *Service) release(ctx context.Context, inst ports.Instance) {
	if s.d.WhatsApp == nil {
		return
	}
	var err error
	switch {
	case inst.JID != "":
		err = s.unlink(ctx, s.d.WhatsApp, inst)
	case active(inst.Status):
		err = s.d.WhatsApp.Disconnect(ctx, inst.ID)
	}
	if err != nil {
		s.d.Log.Warn("unlink the device of a deleted instance", "instance", string(inst.ID), "err", err)
	}
}

// CheckContacts reports which of 1–50 phone numbers are on WhatsApp. Users
// name their instance; API keys act on their own (scope contacts:read,
// another instance → ENotFound). Rate-limited per instance (ERateLimited);
// EConflict (instance_not_connected) unless connected; EInvalid for a bad
// list. Each result carries the number as the caller wrote it.
func (s *Service) CheckContacts(ctx context.Context, p ports.Principal, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
	if err := p.CanActOn(id); err != nil {
		return nil, err
	}
	if err := p.RequireScope(ports.ScopeContactsRead); err != nil {
		return nil, err
	}
	digits, err := checkPhoneList(phones)
	if err != nil {
		return nil, err
	}
	wa, err := s.whatsApp()
	if err != nil {
		return nil, err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	if inst.Status != ports.StatusConnected {
		return nil, ports.ReasonError(ports.EConflict, "instance_not_connected", "the instance is not connected to WhatsApp")
	}
	if err := s.takeContactCheck(ctx, id); err != nil {
		return nil, err
	}
	found, err := wa.CheckNumbers(ctx, id, digits)
	if err != nil {
		return nil, fmt.Errorf("check numbers on %s: %w", id, err)
	}
	if len(found) != len(phones) {
		return nil, fmt.Errorf("check numbers on %s: got %d answers for %d numbers", id, len(found), len(phones))
	}
	out := make([]ports.NumberCheck, len(found))
	for i, r := range found {
		out[i] = ports.NumberCheck{PhoneNumber: phones[i], Exists: r.Exists, JID: r.JID}
	}
	return out, nil
}

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
	s.persistStatus(ctx, ev.Instance, c, ev.At)
}

// persistStatus stores a status reported for instance id at at (zero:
// now) and announces it if it changed.
func (s *Service) persistStatus(ctx context.Context, id ports.InstanceID, c *ports.WAStatusChange, at time.Time) {
	sub, ok := s.ownerOf(ctx, id)
	if !ok {
		return
	}
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	change, err := s.transition(ctx, s.d.Stores.Instances, sub, id, func(i *ports.Instance) {
		applyStatus(i, c, at)
	})
	if ports.IsCode(err, ports.ENotFound) {
		// Deleted while its connection was still reporting.
		s.forget(id)
		return
	}
	if err != nil {
		s.d.Log.Error("persist instance status", "instance", string(id), "status", string(c.Status), "err", err)
		return
	}
	if c.Degraded {
		s.d.Log.Warn("instance keepalives failing", "instance", string(id))
	}
	if change.changed {
		s.d.Log.Info("instance status", "instance", string(id), "status", string(c.Status),
			"previous", string(change.prev), "reason", c.Reason)
	}
	s.publishStatus(ctx, change)
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
// the status can fetch the code.
func (s *Service) onQR(ctx context.Context, ev ports.WAEvent) {
	sub, ok := s.ownerOf(ctx, ev.Instance)
	if !ok {
		return
	}
	qr := QRCode{Code: ev.QR.Code, Attempt: ev.QR.Attempt, ExpiresAt: ev.QR.ExpiresAt}
	s.mu.Lock()
	s.qrs[ev.Instance] = qr
	s.mu.Unlock()
	s.persistStatus(ctx, ev.Instance, &ports.WAStatusChange{Status: ports.StatusQR}, ev.At)
	s.publish(ctx, ports.Event{
		Type:           ports.EventInstanceQR,
		SubscriptionID: sub,
		InstanceID:     ev.Instance,
		Data:           ports.InstanceQRData{QR: qr.Code, Attempt: qr.Attempt, ExpiresAt: qr.ExpiresAt},
	})
}

// Restore reconnects, at start, every instance that was connected (or
// connecting) when the server stopped. A pairing the stop interrupted
// cannot go on (its QR codes died with the connection), so those instances
// become disconnected with reason "interrupted" instead of looking stuck.
// A failed reconnect is logged and does not stop the others; only failing
// to list the instances is an error.
func (s *Service) Restore(ctx context.Context) error {
	if s.d.Directory == nil {
		return errors.New("restore instances: no instance directory")
	}
	if _, err := s.whatsApp(); err != nil {
		return fmt.Errorf("restore instances: %w", err)
	}
	linked, pairing, err := s.activeAtStop(ctx)
	if err != nil {
		return err
	}
	for _, inst := range pairing {
		s.handle(ports.WAEvent{Instance: inst.ID, Kind: ports.WAStatus, At: s.d.Clock.Now(),
			Status: &ports.WAStatusChange{Status: ports.StatusDisconnected, Reason: "interrupted"}})
	}
	sem := make(chan struct{}, restoreParallelism)
	var wg sync.WaitGroup
	for _, inst := range linked {
		if ctx.Err() != nil {
			break // shutting down during the start
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.connect(ctx, inst, nil); err != nil {
				s.d.Log.Warn("restore instance", "instance", string(inst.ID), "err", err)
			}
		})
	}
	wg.Wait()
	s.d.Log.Info("instances restored", "count", len(linked), "interruptedPairings", len(pairing))
	return nil
}

// activeAtStop lists the instances that were active when the server
// stopped: those with a linked device to log in with, and those that were
// still pairing.
func (s *Service) activeAtStop(ctx context.Context) (linked, pairing []ports.Instance, err error) {
	statuses := []ports.InstanceStatus{ports.StatusConnected, ports.StatusConnecting, ports.StatusQR}
	req := ports.PageRequest{Limit: ports.MaxPageLimit}
	for {
		page, err := s.d.Directory.ListInstancesByStatus(ctx, statuses, req)
		if err != nil {
			return nil, nil, fmt.Errorf("list instances to restore: %w", err)
		}
		for _, inst := range page.Items {
			if inst.JID != "" {
				linked = append(linked, inst)
			} else {
				pairing = append(pairing, inst)
			}
		}
		if page.Next == "" {
			return linked, pairing, nil
		}
		req.After = page.Next
	}
}

// statusChange is the outcome of a transition.
type statusChange struct {
	inst       ports.Instance // as saved
	prev       ports.InstanceStatus
	prevReason string
	changed    bool // status or reason changed: an instance.status event
}

// errUnchanged aborts an update that would write what is there already.
var errUnchanged = errors.New("unchanged")

// transition applies fn to the instance under its row lock and saves it if
// the connection state changed.
func (s *Service) transition(ctx context.Context, st ports.InstanceStore, sub ports.SubscriptionID,
	id ports.InstanceID, fn func(*ports.Instance)) (statusChange, error) {
	var before ports.Instance
	after, err := st.UpdateInstance(ctx, sub, id, func(i *ports.Instance) error {
		before = *i
		fn(i)
		if sameConnection(before, *i) {
			return errUnchanged
		}
		i.UpdatedAt = s.d.Clock.Now()
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return statusChange{inst: before, prev: before.Status, prevReason: before.StatusReason}, nil
	}
	if err != nil {
		return statusChange{}, err
	}
	return statusChange{
		inst:       after,
		prev:       before.Status,
		prevReason: before.StatusReason,
		changed:    before.Status != after.Status || before.StatusReason != after.StatusReason,
	}, nil
}

func sameConnection(a, b ports.Instance) bool {
	return a.Status == b.Status && a.StatusReason == b.StatusReason && a.JID == b.JID &&
		a.PhoneNumber == b.PhoneNumber && a.PushName == b.PushName &&
		timesEqual(a.LastConnectedAt, b.LastConnectedAt)
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// publishStatus announces a changed status.
func (s *Service) publishStatus(ctx context.Context, c statusChange) {
	if !c.changed {
		return
	}
	s.publish(ctx, ports.Event{
		Type:           ports.EventInstanceStatus,
		SubscriptionID: c.inst.SubscriptionID,
		InstanceID:     c.inst.ID,
		Data:           ports.InstanceStatusData{Status: c.inst.Status, PreviousStatus: c.prev, Reason: c.inst.StatusReason},
	})
}

// publish stamps e and hands it to the bus, which never waits. A failure
// loses one realtime event; it is logged, not returned, since what caused
// the event has happened.
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

// ownerOf returns the subscription of an instance that an event names;
// false (logged) when it cannot be found.
func (s *Service) ownerOf(ctx context.Context, id ports.InstanceID) (ports.SubscriptionID, bool) {
	s.mu.Lock()
	sub, ok := s.owners[id]
	s.mu.Unlock()
	if ok {
		return sub, true
	}
	if s.d.Directory == nil {
		s.d.Log.Error("WhatsApp event dropped: no instance directory", "instance", string(id))
		return "", false
	}
	inst, err := s.d.Directory.LookupInstance(ctx, id)
	if ports.IsCode(err, ports.ENotFound) {
		s.d.Log.Debug("WhatsApp event of an unknown instance", "instance", string(id))
		return "", false
	}
	if err != nil {
		s.d.Log.Error("look up the instance of a WhatsApp event", "instance", string(id), "err", err)
		return "", false
	}
	s.remember(id, inst.SubscriptionID)
	return inst.SubscriptionID, true
}

func (s *Service) remember(id ports.InstanceID, sub ports.SubscriptionID) {
	s.mu.Lock()
	s.owners[id] = sub
	s.mu.Unlock()
}

// holdsQR reports whether a QR code of id is held for GET /qr.
func (s *Service) holdsQR(id ports.InstanceID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.qrs[id]
	return ok
}

func (s *Service) forgetQR(id ports.InstanceID) {
	s.mu.Lock()
	delete(s.qrs, id)
	s.mu.Unlock()
}

// forget drops what is remembered about a deleted instance.
func (s *Service) forget(id ports.InstanceID) {
	s.mu.Lock()
	delete(s.qrs, id)
	delete(s.owners, id)
	s.mu.Unlock()
}

func (s *Service) whatsApp() (ports.WhatsApp, error) {
	if s.d.WhatsApp == nil {
		return nil, ports.Errorf(ports.EUnavailable, "WhatsApp is not available on this server")
	}
	return s.d.WhatsApp, nil
}

// active reports whether a connection is wanted and under way.
func active(st ports.InstanceStatus) bool {
	return st == ports.StatusConnecting || st == ports.StatusQR || st == ports.StatusConnected
}

func errNotAwaitingQR() error {
	return ports.ReasonError(ports.EConflict, "not_awaiting_qr", "the instance is not waiting for a QR code scan")
}
