package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/auditlog"
	"github.com/wagate/wagate/ports"
)

type auditStore struct{ s *conn }

var _ ports.AuditStore = (*auditStore)(nil)

func (st *auditStore) AppendAudit(ctx context.Context, e ports.AuditEntry) error {
	c := st.s.client.AuditLog.Create().
		SetID(e.ID).
		SetSubscriptionID(string(e.SubscriptionID)).
		SetAt(dbTime(e.At)).
		SetAction(e.Action).
		SetActorUserID(string(e.ActorUserID)).
		SetActorAPIKeyID(string(e.ActorAPIKeyID)).
		SetTargetType(e.TargetType).
		SetTargetID(e.TargetID).
		SetIP(e.IP).
		SetUserAgent(e.UserAgent)
	if e.Details != nil {
		c.SetDetails(e.Details)
	}
	return dbError("append audit", "audit entry", c.Exec(ctx))
}

// ListAudit pages newest first: ids are time-ordered, so descending id
// order is, and the cursor is the oldest id of the previous page.
func (st *auditStore) ListAudit(ctx context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.AuditEntry], error) {
	before, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.AuditEntry]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.AuditLog.Query().
		Where(auditlog.SubscriptionID(string(sub))).
		Order(ent.Desc(auditlog.FieldID)).
		Limit(limit + 1)
	if before != "" {
		q = q.Where(auditlog.IDLT(before))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.AuditEntry]{}, dbError("list audit", "audit entry", err)
	}
	return makePage(rows, limit, toAuditEntry, func(e *ent.AuditLog) string { return e.ID }), nil
}
