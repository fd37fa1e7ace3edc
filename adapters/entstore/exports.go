package entstore

// The export rows of SPEC §18. The file each row stands for is kept by
// another adapter; this one only tracks the job and the expiry.

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/export"
	"github.com/wagate/wagate/ports"
)

// Exports returns the store of export rows.
func (s *Store) Exports() ports.ExportStore { return &exportStore{s.pool} }

type exportStore struct{ s *conn }

var _ ports.ExportStore = (*exportStore)(nil)

func (st *exportStore) CreateExport(ctx context.Context, e ports.Export) error {
	err := st.s.client.Export.Create().
		SetID(string(e.ID)).
		SetSubscriptionID(string(e.SubscriptionID)).
		SetRequestedBy(string(e.RequestedBy)).
		SetStatus(string(e.Status)).
		SetSizeBytes(e.SizeBytes).
		SetError(e.Error).
		SetCreatedAt(dbTime(e.CreatedAt)).
		SetUpdatedAt(dbTime(e.UpdatedAt)).
		SetNillableCompletedAt(dbTimePtr(e.CompletedAt)).
		SetExpiresAt(dbTime(e.ExpiresAt)).
		SetNillableUnfinishedOf(unfinishedOf(e)).
		Exec(ctx)
	if err != nil && ent.IsConstraintError(err) {
		// The only unique key a fresh id can clash with is the one
		// unfinished export per subscription.
		return ports.ReasonError(ports.EConflict, "export_running", "an export of this subscription is already pending or running")
	}
	return dbError("create export", "export", err)
}

func (st *exportStore) GetExport(ctx context.Context, sub ports.SubscriptionID, id ports.ExportID) (ports.Export, error) {
	e, err := st.s.client.Export.Query().
		Where(export.ID(string(id)), export.SubscriptionID(string(sub))).Only(ctx)
	if err != nil {
		return ports.Export{}, dbError("get export", "export", err)
	}
	return toExport(e), nil
}

func (st *exportStore) ListExports(ctx context.Context, sub ports.SubscriptionID, p ports.PageRequest) (ports.Page[ports.Export], error) {
	limit := pageLimit(p)
	after, err := decodeCursor(p.After)
	if err != nil {
		return ports.Page[ports.Export]{}, err
	}
	q := st.s.client.Export.Query().Where(export.SubscriptionID(string(sub)))
	if after != "" {
		q = q.Where(export.IDLT(after))
	}
	rows, err := q.Order(ent.Desc(export.FieldID)).Limit(limit + 1).All(ctx)
	if err != nil {
		return ports.Page[ports.Export]{}, dbError("list exports", "export", err)
	}
	return makePage(rows, limit, toExport, func(e *ent.Export) string { return e.ID }), nil
}

func (st *exportStore) UpdateExport(ctx context.Context, sub ports.SubscriptionID, id ports.ExportID, fn func(*ports.Export) error) error {
	return st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.Export.Query().Where(export.ID(string(id)), export.SubscriptionID(string(sub)))
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update export", "export", err)
		}
		v := toExport(e)
		if err := fn(&v); err != nil {
			return err
		}
		u := tx.client.Export.UpdateOneID(e.ID)
		if of := unfinishedOf(v); of != nil {
			u.SetUnfinishedOf(*of)
		} else {
			u.ClearUnfinishedOf()
		}
		err = u.SetStatus(string(v.Status)).
			SetSizeBytes(v.SizeBytes).
			SetError(v.Error).
			SetUpdatedAt(dbTime(v.UpdatedAt)).
			SetNillableCompletedAt(dbTimePtr(v.CompletedAt)).
			SetExpiresAt(dbTime(v.ExpiresAt)).
			Exec(ctx)
		return dbError("update export", "export", err)
	})
}

func (st *exportStore) ExpiredExports(ctx context.Context, before time.Time, limit int) ([]ports.Export, error) {
	rows, err := st.s.client.Export.Query().
		Where(export.ExpiresAtLT(dbTime(before))).
		Order(ent.Asc(export.FieldExpiresAt)).Limit(limit).All(ctx)
	if err != nil {
		return nil, dbError("list expired exports", "export", err)
	}
	out := make([]ports.Export, len(rows))
	for i, e := range rows {
		out[i] = toExport(e)
	}
	return out, nil
}

func (st *exportStore) DeleteExports(ctx context.Context, sub ports.SubscriptionID, ids []ports.ExportID) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	n, err := st.s.client.Export.Delete().
		Where(export.SubscriptionID(string(sub)), export.IDIn(keys...)).Exec(ctx)
	return n, dbError("delete exports", "export", err)
}

// unfinishedOf is the value of the column whose unique index allows one
// unfinished export per subscription: the subscription while pending or
// running, NULL after.
func unfinishedOf(e ports.Export) *string {
	if e.Status != ports.ExportPending && e.Status != ports.ExportRunning {
		return nil
	}
	s := string(e.SubscriptionID)
	return &s
}

func toExport(e *ent.Export) ports.Export {
	return ports.Export{
		ID: ports.ExportID(e.ID), SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		RequestedBy: ports.UserID(e.RequestedBy), Status: ports.ExportStatus(e.Status),
		SizeBytes: e.SizeBytes, Error: e.Error,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
		CompletedAt: utcPtr(e.CompletedAt), ExpiresAt: e.ExpiresAt.UTC(),
	}
}
