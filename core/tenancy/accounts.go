package tenancy

import (
	"context"
	"fmt"
	"strings"

	"github.com/wagate/wagate/ports"
)

// newAccount is what registration and the command line have in common.
type newAccount struct {
	email, password, name string
	role                  ports.Role
}

// validate normalizes the input and checks every field at once, so that a
// client sees all its mistakes in one answer.
func (a *newAccount) validate() error {
	a.email = normalizeEmail(a.email)
	a.name = strings.TrimSpace(a.name)
	return ports.FieldErrors(checkEmail(a.email), checkPassword("password", a.password), checkName(a.name))
}

// createAccount creates a basic-tier subscription and its first user in one
// transaction; then runs inside that transaction (tokens, audit).
func (s *Service) createAccount(ctx context.Context, a newAccount, then func(ctx context.Context, st ports.Stores, u ports.User) error) (ports.User, ports.Subscription, error) {
	if err := a.validate(); err != nil {
		return ports.User{}, ports.Subscription{}, err
	}
	// Checked before hashing so that a taken email costs no argon2 run; the
	// store's unique index still decides races.
	switch _, err := s.d.Stores.Users.GetUserByEmail(ctx, a.email); {
	case err == nil:
		return ports.User{}, ports.Subscription{}, emailTaken()
	case !ports.IsCode(err, ports.ENotFound):
		return ports.User{}, ports.Subscription{}, fmt.Errorf("look up email: %w", err)
	}
	hash, err := s.d.Hasher.Hash(a.password)
	if err != nil {
		return ports.User{}, ports.Subscription{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.d.Clock.Now()
	sub := ports.Subscription{ID: ports.SubscriptionID(s.d.IDs.NewID()), Tier: ports.TierBasic, CreatedAt: now, UpdatedAt: now}
	u := ports.User{
		ID: ports.UserID(s.d.IDs.NewID()), SubscriptionID: sub.ID, Email: a.email, Name: a.name,
		PasswordHash: hash, Role: a.role, MemberRole: ports.MemberOwner, CreatedAt: now, UpdatedAt: now,
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := st.Subscriptions.CreateSubscription(ctx, sub); err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
		if err := st.Users.CreateUser(ctx, u); err != nil {
			if ports.IsCode(err, ports.EConflict) {
				return emailTaken()
			}
			return fmt.Errorf("create user: %w", err)
		}
		return then(ctx, st, u)
	})
	if err != nil {
		return ports.User{}, ports.Subscription{}, err
	}
	return withoutSecrets(u), sub, nil
}

// withoutSecrets drops the password hash from a user that leaves the module.
func withoutSecrets(u ports.User) ports.User {
	u.PasswordHash = ""
	return u
}

// summary adds the tier's limit and the usage to a subscription.
func (s *Service) summary(ctx context.Context, st ports.InstanceStore, sub ports.Subscription) (ports.SubscriptionSummary, error) {
	used, err := st.CountInstances(ctx, sub.ID)
	if err != nil {
		return ports.SubscriptionSummary{}, fmt.Errorf("count instances: %w", err)
	}
	return s.summaryOf(sub, used), nil
}

// summaryOf adds the tier's limit to a subscription with its usage.
func (s *Service) summaryOf(sub ports.Subscription, used int) ports.SubscriptionSummary {
	return ports.SubscriptionSummary{
		Subscription:  sub,
		InstanceLimit: s.cfg.Tiers[sub.Tier].Instances,
		InstancesUsed: used,
	}
}
