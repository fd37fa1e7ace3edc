package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// staleBatch bounds the endpoints one sweep looks at; the next sweep
// takes the rest, since those it disabled no longer match.
const staleBatch = 100

// staleReason is the reason a sweep records on the endpoints it disables.
const staleReason = "no successful delivery for 5 days"

// errNotStale aborts the update of an endpoint that recovered, or was
// disabled, since it was listed.
var errNotStale = errors.New("the endpoint is not stale")

// DisableStaleOnce disables the enabled endpoints that have been failing
// without a success for AutoDisableAfter (SPEC §9). An attempt applies the
// rule too, but an endpoint whose deliveries all wait for late retries, or
// are dead, makes no attempt to apply it: this sweep does, and the
// composition root runs it periodically. Each endpoint it disables is
// audited as webhook.disabled. It returns how many it disabled.
func (s *Service) DisableStaleOnce(ctx context.Context) (int, error) {
	now := s.d.Clock.Now()
	failing, err := s.d.Outbox.ListFailing(ctx, now.Add(-AutoDisableAfter), staleBatch)
	if err != nil {
		return 0, fmt.Errorf("list failing webhooks: %w", err)
	}
	n := 0
	for _, w := range failing {
		err := s.disableStale(ctx, w, now)
		switch {
		case err == nil:
			n++
			s.d.Observer.Disabled(DisableFailing)
		case errors.Is(err, errNotStale), ports.IsCode(err, ports.ENotFound):
		default:
			return n, err
		}
	}
	return n, nil
}

// disableStale disables w if, under its lock, the rule still holds.
func (s *Service) disableStale(ctx context.Context, w ports.WebhookEndpoint, now time.Time) error {
	defer s.endpoints.forget(w.ID)
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		out, err := st.Webhooks.UpdateWebhook(ctx, w.SubscriptionID, w.ID, func(w *ports.WebhookEndpoint) error {
			if !w.Enabled || w.FirstFailureAt == nil {
				return errNotStale
			}
			var last time.Time
			if w.LastSuccessAt != nil {
				last = *w.LastSuccessAt
			}
			if !AutoDisable(last, *w.FirstFailureAt, now) {
				return errNotStale
			}
			w.Enabled, w.DisabledReason, w.UpdatedAt = false, staleReason, now
			return nil
		})
		if err != nil {
			return fmt.Errorf("disable webhook %s: %w", w.ID, err)
		}
		return s.audit(ctx, st.Audit, disabledEntry(out, staleReason))
	})
}

// disabledEntry is the audit entry of an endpoint the system disabled: no
// actor, the reason in the details.
func disabledEntry(w ports.WebhookEndpoint, reason string) ports.AuditEntry {
	e := ports.AuditEntry{
		SubscriptionID: w.SubscriptionID, Action: "webhook.disabled", TargetType: "webhook", TargetID: string(w.ID),
		Details: endpointDetails(w),
	}
	e.Details["reason"] = reason
	return e
}
