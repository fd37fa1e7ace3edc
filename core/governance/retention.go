package governance

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// SubscriptionView is the caller's own subscription with its effective
// retention.
type SubscriptionView struct {
	Subscription ports.Subscription
	Retention    ports.Retention
	// Default is true when the platform default applies.
	Default bool
}

// RetentionPatch changes some retention settings; nil leaves one as it is.
type RetentionPatch struct {
	MessagesDays, MediaDays, DeliveriesDays, AuditDays *int
}

// Subscription returns the caller's subscription with its retention.
func (s *Service) Subscription(ctx context.Context, p ports.Principal) (SubscriptionView, error) {
	if err := p.RequireUser(); err != nil {
		return SubscriptionView{}, err
	}
	sub, err := s.d.Stores.Subscriptions.GetSubscription(ctx, p.SubscriptionID)
	if err != nil {
		return SubscriptionView{}, fmt.Errorf("get subscription: %w", err)
	}
	r, set, err := s.d.Retention.GetRetention(ctx, p.SubscriptionID)
	if err != nil {
		return SubscriptionView{}, fmt.Errorf("get retention: %w", err)
	}
	if !set {
		r = s.def
	}
	return SubscriptionView{Subscription: sub, Retention: r, Default: !set}, nil
}

// SetRetention applies the patch over the effective settings and stores
// them as the subscription's own. EInvalid with fields for a negative or
// too large number of days. Audited.
func (s *Service) SetRetention(ctx context.Context, p ports.Principal, patch RetentionPatch) (SubscriptionView, error) {
	v, err := s.Subscription(ctx, p)
	if err != nil {
		return v, err
	}
	var bad []ports.FieldError
	apply := func(field string, from *int, to *int) {
		if from == nil {
			return
		}
		if *from < 0 || *from > ports.MaxRetentionDays {
			bad = append(bad, ports.FieldError{Field: "retention." + field, Message: fmt.Sprintf("must be between 0 (keep forever) and %d days", ports.MaxRetentionDays)})
			return
		}
		*to = *from
	}
	r := v.Retention
	apply("messagesDays", patch.MessagesDays, &r.MessagesDays)
	apply("mediaDays", patch.MediaDays, &r.MediaDays)
	apply("deliveriesDays", patch.DeliveriesDays, &r.DeliveriesDays)
	apply("auditDays", patch.AuditDays, &r.AuditDays)
	if len(bad) > 0 {
		return v, ports.InvalidFields(bad...)
	}
	if err := s.d.Retention.SetRetention(ctx, p.SubscriptionID, r); err != nil {
		return v, fmt.Errorf("set retention: %w", err)
	}
	e := p.AuditEntry("subscription.retention_changed", "subscription", string(p.SubscriptionID))
	e.Details = map[string]any{
		"messagesDays": r.MessagesDays, "mediaDays": r.MediaDays,
		"deliveriesDays": r.DeliveriesDays, "auditDays": r.AuditDays,
	}
	if err := ports.AppendAudit(ctx, s.d.Stores.Audit, s.d.IDs, s.d.Clock, e); err != nil {
		return v, err
	}
	v.Retention, v.Default = r, false
	return v, nil
}

// PurgeBatchSize bounds one delete of the purge: short enough that no
// statement holds its locks for long, next to the sends going on.
const PurgeBatchSize = 1000

// purgePause is the breath between two batches, which lets the writes of
// the sends in between (SQLite has one writer).
const purgePause = 5 * time.Millisecond

// Purge runs one retention pass: on the node holding the purge lease,
// every kind of data of every subscription older than its retention goes,
// a batch at a time. It returns how many rows went.
func (s *Service) Purge(ctx context.Context) (int, error) {
	release, ok, err := s.d.Retention.TryPurgeLease(ctx)
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	overrides, err := s.d.Retention.RetentionOverrides(ctx)
	if err != nil {
		return 0, fmt.Errorf("list retention settings: %w", err)
	}
	now := s.d.Clock.Now()
	total := 0
	purge := func(sub ports.SubscriptionID, r ports.Retention) error {
		for _, k := range []struct {
			kind ports.PurgeKind
			days int
		}{
			{ports.PurgeMessages, r.MessagesDays}, {ports.PurgeMedia, r.MediaDays},
			{ports.PurgeDeliveries, r.DeliveriesDays}, {ports.PurgeAudit, r.AuditDays},
		} {
			if k.days <= 0 {
				continue
			}
			n, err := s.purgeKind(ctx, k.kind, sub, now.AddDate(0, 0, -k.days))
			total += n
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := purge("", s.def); err != nil {
		return total, err
	}
	for sub, r := range overrides {
		if err := purge(sub, r); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Service) purgeKind(ctx context.Context, kind ports.PurgeKind, sub ports.SubscriptionID, before time.Time) (int, error) {
	total := 0
	for {
		n, err := s.d.Retention.PurgeBatch(ctx, kind, sub, before, PurgeBatchSize)
		total += n
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", kind, err)
		}
		if n < PurgeBatchSize {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(purgePause):
		}
	}
}
