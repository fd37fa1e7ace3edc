package sessions

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

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
		return nil, ports.ErrNotConnected()
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
