package sessions

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

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
	if err := call(ctx, wa, inst); err != nil {
		return fmt.Errorf("%s %s: %w", action, id, err)
	}
	s.forgetQR(ctx, id)
	var change statusChange
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		change, err = s.transition(ctx, st, p.SubscriptionID, id, func(i *ports.Instance) {
			if !i.Status.Unlinked() {
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
	s.wake(ctx, change)
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
	case inst.Status.WantsConnection():
		err = s.d.WhatsApp.Disconnect(ctx, inst.ID)
	}
	if err != nil {
		s.d.Log.Warn("unlink the device of a deleted instance", "instance", string(inst.ID), "err", err)
	}
}
