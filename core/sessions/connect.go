package sessions

import (
	"context"
	"errors"
	"fmt"

	"github.com/wagate/wagate/ports"
)

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
		case ports.IsCode(err, ports.EConflict) && s.d.Calls != nil:
			// Another node holds the instance: the connect (a pairing
			// going on, a reconnect) happens there.
			if err := s.connectOnHolder(ctx, id, struct{}{}); err != nil {
				return err
			}
			return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
				return s.audit(ctx, st.Audit, s.entry(p, "instance.connect", id))
			})
		case ports.IsCode(err, ports.EConflict) && inst.Status.WantsConnection():
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

// connectHere connects, on the node holding it, an instance a connect
// that another node received was for: the lease is renewed (so that the
// lease loop, seeing the instance not yet wanted, does not let it go
// before its status moves on), then it connects as Connect would.
func (s *Service) connectHere(ctx context.Context, id ports.InstanceID, _ struct{}) error {
	if s.d.Directory == nil {
		return errors.New("connect instance: no instance directory")
	}
	inst, err := s.d.Directory.LookupInstance(ctx, id)
	if err != nil {
		return fmt.Errorf("look up instance: %w", err)
	}
	if s.d.Leases != nil {
		if err := s.d.Leases.Acquire(ctx, id); err != nil {
			return err
		}
	}
	return s.connect(ctx, inst, nil)
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
	case !inst.Status.WantsConnection():
		return nil
	case inst.JID == "":
		s.handle(ports.WAEvent{Subscription: inst.SubscriptionID, Instance: inst.ID,
			Kind: ports.WAStatus, At: s.d.Clock.Now(),
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
	s.forgetQR(ctx, id)
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
	starting := !inst.Status.WantsConnection()
	var change statusChange
	if starting || p != nil {
		err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
			if starting {
				var err error
				change, err = s.transition(ctx, st, inst.SubscriptionID, inst.ID, func(i *ports.Instance) {
					if !i.Status.WantsConnection() {
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
		s.wake(ctx, change)
	}
	opt := ports.ConnectOptions{ProxyURL: inst.ProxyURL, JID: inst.JID, Subscription: inst.SubscriptionID}
	if inst.Status.Unlinked() {
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
	_, err := s.transitionTx(ctx, c.inst.SubscriptionID, c.inst.ID, func(i *ports.Instance) {
		if i.Status == ports.StatusConnecting && i.StatusReason == "" {
			i.Status, i.StatusReason = c.prev, c.prevReason
		}
	}, nil)
	if err != nil {
		s.d.Log.Error("restore the status after a refused connect", "instance", string(c.inst.ID), "err", err)
	}
}

func (s *Service) whatsApp() (ports.WhatsApp, error) {
	if s.d.WhatsApp == nil {
		return nil, ports.Errorf(ports.EUnavailable, "WhatsApp is not available on this server")
	}
	return s.d.WhatsApp, nil
}
