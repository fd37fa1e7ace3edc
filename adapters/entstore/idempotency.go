package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/idempotencykey"
	"github.com/wagate/wagate/ports"
)

// idempotencyStore keeps Idempotency-Keys; the unique index on
// (subscription_id, key) decides which of two concurrent first requests
// wins.
type idempotencyStore struct{ s *conn }

var _ ports.IdempotencyStore = (*idempotencyStore)(nil)

// Idempotency returns the idempotency-key store.
func (s *Store) Idempotency() ports.IdempotencyStore { return &idempotencyStore{s.pool} }

func (st *idempotencyStore) BeginIdempotency(ctx context.Context, sub ports.SubscriptionID, r ports.IdempotencyRecord) (ports.IdempotencyRecord, error) {
	err := st.s.client.IdempotencyKey.Create().
		SetID(r.ID).
		SetSubscriptionID(string(sub)).
		SetKey(r.Key).
		SetRequestHash(r.RequestHash).
		SetState(string(ports.IdempotencyInProgress)).
		SetCreatedAt(dbTime(r.CreatedAt)).
		SetExpiresAt(dbTime(r.ExpiresAt)).
		Exec(ctx)
	if err == nil {
		r.SubscriptionID, r.State = sub, ports.IdempotencyInProgress
		r.Status, r.ContentType, r.Body = 0, "", nil
		return r, nil
	}
	if err = dbError("begin idempotency key", "idempotency key", err); !ports.IsCode(err, ports.EConflict) {
		return ports.IdempotencyRecord{}, err
	}
	e, gerr := st.s.client.IdempotencyKey.Query().
		Where(idempotencykey.SubscriptionID(string(sub)), idempotencykey.Key(r.Key)).Only(ctx)
	if ent.IsNotFound(gerr) {
		// Released between the insert and the read: the caller may try
		// again, and a conflict says so.
		return ports.IdempotencyRecord{}, err
	}
	if gerr != nil {
		return ports.IdempotencyRecord{}, dbError("get idempotency key", "idempotency key", gerr)
	}
	return toIdempotency(e), err
}

func (st *idempotencyStore) CompleteIdempotency(ctx context.Context, sub ports.SubscriptionID, key, id string, status int, contentType string, body []byte) error {
	n, err := st.s.client.IdempotencyKey.Update().
		Where(
			idempotencykey.ID(id),
			idempotencykey.SubscriptionID(string(sub)),
			idempotencykey.Key(key),
			idempotencykey.State(string(ports.IdempotencyInProgress)),
		).
		SetState(string(ports.IdempotencyDone)).
		SetStatus(status).
		SetContentType(contentType).
		SetBody(body).
		Save(ctx)
	if err != nil {
		return dbError("complete idempotency key", "idempotency key", err)
	}
	if n == 0 {
		return ports.Errorf(ports.ENotFound, "idempotency key not found")
	}
	return nil
}

func (st *idempotencyStore) ReleaseIdempotency(ctx context.Context, sub ports.SubscriptionID, key, id string) error {
	_, err := st.s.client.IdempotencyKey.Delete().
		Where(idempotencykey.ID(id), idempotencykey.SubscriptionID(string(sub)), idempotencykey.Key(key)).
		Exec(ctx)
	return dbError("release idempotency key", "idempotency key", err)
}

func (st *idempotencyStore) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	n, err := st.s.client.IdempotencyKey.Delete().
		Where(idempotencykey.ExpiresAtLT(dbTime(before))).
		Exec(ctx)
	if err != nil {
		return 0, dbError("purge idempotency keys", "idempotency key", err)
	}
	return n, nil
}

func toIdempotency(e *ent.IdempotencyKey) ports.IdempotencyRecord {
	return ports.IdempotencyRecord{
		ID:             e.ID,
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		Key:            e.Key,
		RequestHash:    e.RequestHash,
		State:          ports.IdempotencyState(e.State),
		Status:         e.Status,
		ContentType:    e.ContentType,
		Body:           e.Body,
		CreatedAt:      e.CreatedAt.UTC(),
		ExpiresAt:      e.ExpiresAt.UTC(),
	}
}
