package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testAudit(t *testing.T, f *fixture) {
	st := f.s.Audit
	sub, other := f.subscription(), f.subscription()
	var want []ports.AuditEntry
	for i := range 5 {
		e := ports.AuditEntry{
			ID: newID(), SubscriptionID: sub.ID, At: base.Add(time.Duration(i) * time.Second),
			Action: "instance.create", ActorUserID: ports.UserID(newID()), TargetType: "instance",
			TargetID: newID(), IP: "203.0.113.7", UserAgent: "curl/8",
		}
		if i%2 == 0 {
			e.Details = map[string]any{"name": "sales", "n": float64(i)}
		}
		mustOK(t, "append audit", st.AppendAudit(f.ctx, e))
		want = append(want, e)
	}
	tenantless := ports.AuditEntry{ID: newID(), At: base, Action: "auth.login_failed", ActorAPIKeyID: ports.APIKeyID(newID())}
	mustOK(t, "append audit without tenant", st.AppendAudit(f.ctx, tenantless))
	mustOK(t, "append other tenant's audit", st.AppendAudit(f.ctx, ports.AuditEntry{
		ID: newID(), SubscriptionID: other.ID, At: base, Action: "user.login",
	}))

	slices.Reverse(want) // newest first
	got := collect(t, 2, 3, func(p ports.PageRequest) ([]ports.AuditEntry, string, error) {
		page, err := st.ListAudit(f.ctx, sub.ID, p)
		return page.Items, page.Next, err
	})
	diff(t, "audit newest first", want, got)
	for _, e := range got {
		wantUTC(t, "audit at", e.At)
	}
}
