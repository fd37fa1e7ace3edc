package sessions

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// The allowances of actions that reach people outside the subscription:
// contact checks (mass lookups get numbers banned) and pair codes (each
// sends a linking prompt to the phone of the number given).

// limitOr returns l, or def when l is unset.
func limitOr(l, def ports.Limit) ports.Limit {
	if l.Count <= 0 || l.Period <= 0 {
		return def
	}
	return l
}

// takeContactCheck counts one check against the instance's allowance.
func (s *Service) takeContactCheck(ctx context.Context, id ports.InstanceID) error {
	return s.take(ctx, "contacts:"+string(id), s.d.ContactsLimit, "too many contact checks for this instance")
}

// takePairCode counts one pair code against the instance's allowance, then
// the subscription's: an instance at its limit does not use up its
// neighbours' share.
func (s *Service) takePairCode(ctx context.Context, inst ports.Instance) error {
	if err := s.take(ctx, "paircode:"+string(inst.ID), s.d.PairCodeLimit, "too many pair codes for this instance"); err != nil {
		return err
	}
	return s.take(ctx, "paircode-sub:"+string(inst.SubscriptionID), s.d.PairCodeSubscriptionLimit, "too many pair codes for this subscription")
}

// take counts one use of key against limit: ERateLimited (rate_limited)
// with the wait in RetryAfter once the allowance is spent; what says what
// was too many.
func (s *Service) take(ctx context.Context, key string, limit ports.Limit, what string) error {
	if s.d.Limiter == nil {
		return nil
	}
	res, err := s.d.Limiter.Take(ctx, key, limit)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", key, err)
	}
	if !res.Reached {
		return nil
	}
	// Whole seconds (Retry-After has no fractions), rounded up so that a
	// client that waits exactly that long finds the window passed.
	wait := max(res.Reset.Sub(s.d.Clock.Now()), time.Second)
	e := ports.ReasonError(ports.ERateLimited, "rate_limited", what+"; try again later")
	e.RetryAfter = (wait + time.Second - 1).Truncate(time.Second)
	return e
}
