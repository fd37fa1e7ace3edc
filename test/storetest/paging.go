package storetest

import (
	"context"
	"testing"

	"github.com/wagate/wagate/ports"
)

func testPageLimits(t *testing.T, f *fixture) {
	sub := f.subscription()
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		for range ports.MaxPageLimit + 1 {
			e := ports.AuditEntry{ID: newID(), SubscriptionID: sub.ID, At: base, Action: "user.login"}
			if err := s.Audit.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	mustOK(t, "append audit entries", err)
	for _, tc := range []struct {
		limit, want int
	}{
		{0, ports.DefaultPageLimit},
		{1, 1},
		{ports.MaxPageLimit, ports.MaxPageLimit},
		{ports.MaxPageLimit + 1000, ports.MaxPageLimit},
	} {
		page, err := f.s.Audit.ListAudit(f.ctx, sub.ID, ports.PageRequest{Limit: tc.limit})
		mustOK(t, "list audit", err)
		if len(page.Items) != tc.want || page.Next == "" {
			t.Errorf("limit %d: got %d items and next %q, want %d items and a next cursor",
				tc.limit, len(page.Items), page.Next, tc.want)
		}
	}
}

func testBadCursor(t *testing.T, f *fixture) {
	sub := f.subscription()
	in := f.instance(sub.ID, "sales")
	bad := ports.PageRequest{After: "not a cursor!"}
	_, err := f.s.Subscriptions.ListSubscriptions(f.ctx, bad)
	wantErr(t, "list subscriptions", err, ports.EInvalid, "")
	_, err = f.s.Instances.ListInstances(f.ctx, sub.ID, bad)
	wantErr(t, "list instances", err, ports.EInvalid, "")
	_, err = f.s.APIKeys.ListAPIKeys(f.ctx, sub.ID, in.ID, bad)
	wantErr(t, "list api keys", err, ports.EInvalid, "")
	_, err = f.s.Audit.ListAudit(f.ctx, sub.ID, bad)
	wantErr(t, "list audit", err, ports.EInvalid, "")
}
