package storetest

import (
	"context"
	"strings"
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

// testNULCursor: a cursor that decodes to a NUL byte ("AA") is a client's
// mistake on every store; PostgreSQL must not see the NUL.
func testNULCursor(t *testing.T, f *fixture) {
	sub := f.subscription()
	in := f.instance(sub.ID, "sales")
	for _, after := range []string{"AA", "YQBi", "_w", "AA=="} {
		bad := ports.PageRequest{After: after}
		_, err := f.s.Instances.ListInstances(f.ctx, sub.ID, bad)
		wantErr(t, "list instances after "+after, err, ports.EInvalid, "")
		_, err = f.s.APIKeys.ListAPIKeys(f.ctx, sub.ID, in.ID, bad)
		wantErr(t, "list api keys after "+after, err, ports.EInvalid, "")
		_, err = f.s.Audit.ListAudit(f.ctx, sub.ID, bad)
		wantErr(t, "list audit after "+after, err, ports.EInvalid, "")
		_, err = f.s.Messages.ListMessages(f.ctx, sub.ID, ports.MessageFilter{InstanceID: in.ID}, bad)
		wantErr(t, "list messages after "+after, err, ports.EInvalid, "")
	}
}

// testRuneLengths: the store counts lengths in characters like core does,
// so a name core accepts (100 four-byte emoji) is stored.
func testRuneLengths(t *testing.T, f *fixture) {
	sub := f.subscription()
	in := f.instance(sub.ID, "sales")
	name := strings.Repeat("😀", 100)
	err := f.s.Instances.CreateInstance(f.ctx, sub.ID, ports.Instance{
		ID: ports.InstanceID(newID()), SubscriptionID: sub.ID, Name: name, Status: ports.StatusDisconnected,
		CreatedAt: base, UpdatedAt: base,
	})
	mustOK(t, "create an instance named with 100 emoji", err)
	_, err = f.s.Instances.UpdateInstance(f.ctx, sub.ID, in.ID, func(i *ports.Instance) error {
		i.PushName = strings.Repeat("é", 200)
		return nil
	})
	mustOK(t, "set a push name of 200 two-byte characters", err)
}
