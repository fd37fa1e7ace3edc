package tenancy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// ListSubscriptions lists every subscription. Admins only.
func (s *Service) ListSubscriptions(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.SubscriptionSummary], error) {
	if err := p.RequireAdmin(); err != nil {
		return ports.Page[ports.SubscriptionSummary]{}, err
	}
	subs, err := s.d.Stores.Subscriptions.ListSubscriptions(ctx, page)
	if err != nil {
		return ports.Page[ports.SubscriptionSummary]{}, fmt.Errorf("list subscriptions: %w", err)
	}
	out := ports.Page[ports.SubscriptionSummary]{Items: make([]ports.SubscriptionSummary, 0, len(subs.Items)), Next: subs.Next}
	for _, sub := range subs.Items {
		sum, err := s.summary(ctx, s.d.Stores.Instances, sub)
		if err != nil {
			return ports.Page[ports.SubscriptionSummary]{}, err
		}
		out.Items = append(out.Items, sum)
	}
	return out, nil
}

// ChangeTier sets a subscription's tier. Admins only; audited.
func (s *Service) ChangeTier(ctx context.Context, p ports.Principal, id ports.SubscriptionID, tier ports.Tier) (ports.SubscriptionSummary, error) {
	if err := p.RequireAdmin(); err != nil {
		return ports.SubscriptionSummary{}, err
	}
	if !s.cfg.Tiers.Valid(tier) {
		return ports.SubscriptionSummary{}, ports.InvalidFields(ports.FieldError{
			Field: "tier", Message: "must be one of " + s.tierNames(),
		})
	}
	var out ports.SubscriptionSummary
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var from ports.Tier
		sub, err := st.Subscriptions.UpdateSubscription(ctx, id, func(sub *ports.Subscription) error {
			from = sub.Tier
			sub.Tier = tier
			sub.UpdatedAt = s.d.Clock.Now()
			return nil
		})
		if err != nil {
			return fmt.Errorf("update subscription: %w", err)
		}
		if out, err = s.summary(ctx, st.Instances, sub); err != nil {
			return err
		}
		// The entry goes to the changed subscription's log, where its owner
		// can see who changed their plan.
		e := byPrincipal(p, "subscription.tier_changed")
		e.SubscriptionID = id
		e.TargetType, e.TargetID = "subscription", string(id)
		e.Details = map[string]any{"from": string(from), "to": string(tier)}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return ports.SubscriptionSummary{}, err
	}
	// The cached principals carry the old tier, and so its rate limit.
	s.d.Principals.Revoke(ctx, ports.Revocation{SubscriptionID: id})
	return out, nil
}

// tierNames lists the configured tiers, cheapest first.
func (s *Service) tierNames() string {
	names := make([]string, 0, len(s.cfg.Tiers))
	for t := range s.cfg.Tiers {
		names = append(names, string(t))
	}
	slices.SortFunc(names, func(a, b string) int {
		la, lb := s.cfg.Tiers[ports.Tier(a)], s.cfg.Tiers[ports.Tier(b)]
		if la.Instances != lb.Instances {
			return la.Instances - lb.Instances
		}
		return strings.Compare(a, b)
	})
	return strings.Join(names, ", ")
}

// CheckAPIRate counts one API request against the caller's subscription
// (limit by tier). It returns the counter state; ERateLimited (with
// RetryAfter) when over the limit.
func (s *Service) CheckAPIRate(ctx context.Context, p ports.Principal) (ports.RateResult, error) {
	lim, ok := s.cfg.Tiers[p.Tier]
	if !ok {
		// A tier missing from the table (removed from the configuration)
		// gets the basic allowance rather than none or unlimited.
		lim = s.cfg.Tiers[ports.TierBasic]
	}
	res, err := s.d.Limiter.Take(ctx, "api:"+string(p.SubscriptionID), ports.Limit{Count: lim.RequestsPerMinute, Period: time.Minute})
	if err != nil {
		return res, fmt.Errorf("count api request: %w", err)
	}
	if res.Reached {
		return res, rateLimited(res.Reset, s.d.Clock.Now(), "too many requests for this subscription; slow down")
	}
	return res, nil
}
