package governance

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// maxPasswordLen bounds the password a closing checks (argon2id is costly).
const maxPasswordLen = 1024

// Close closes the caller's account (SPEC §18): after the password is
// confirmed, every instance is unlinked from WhatsApp and deleted, every
// row of the subscription goes, and every token and key is revoked on
// every node. Irreversible. The audit entry is written at platform level
// with no personal data. EUnauthorized (invalid_credentials) for a wrong
// password.
func (s *Service) Close(ctx context.Context, p ports.Principal, password string) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	if password == "" || len(password) > maxPasswordLen {
		return ports.InvalidFields(ports.FieldError{Field: "password", Message: "is required to close the account"})
	}
	u, err := s.d.Stores.Users.GetUser(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	ok, err := s.d.Hasher.Verify(u.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return ports.ReasonError(ports.EUnauthorized, "invalid_credentials", "the password is wrong")
	}
	instances := 0
	err = s.eachInstance(ctx, p.SubscriptionID, func(i ports.Instance) error {
		instances++
		if err := s.d.Instances.Delete(ctx, p, i.ID); err != nil && !ports.IsCode(err, ports.ENotFound) {
			return fmt.Errorf("delete instance %s: %w", i.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The export files first: the wipe takes their rows, which are what
	// finds the files.
	if s.d.Exports != nil {
		if _, err := s.d.Exports.DeleteAll(ctx, p.SubscriptionID); err != nil {
			return fmt.Errorf("delete the subscription's exports: %w", err)
		}
	}
	if err := s.d.Wipe.DeleteSubscriptionData(ctx, p.SubscriptionID); err != nil {
		return fmt.Errorf("delete the subscription's data: %w", err)
	}
	s.d.Revoke(ctx, ports.Revocation{SubscriptionID: p.SubscriptionID})
	// Platform level: no tenant to list it under (the tenant is gone),
	// no actor, address or agent (personal data of a closed account).
	e := ports.AuditEntry{
		Action: "subscription.closed", TargetType: "subscription", TargetID: string(p.SubscriptionID),
		Details: map[string]any{"instances": instances},
	}
	return ports.AppendAudit(ctx, s.d.Stores.Audit, s.d.IDs, s.d.Clock, e)
}
