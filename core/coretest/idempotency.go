package coretest

import (
	"context"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

// Idempotency is the idempotency store of a Store of its own, for tests
// of that store alone: Hook is the Store's.
type Idempotency struct {
	*Store
	ports.IdempotencyStore
}

type idemKey struct {
	sub ports.SubscriptionID
	key string
}

var _ ports.IdempotencyStore = view{}

// NewIdempotency returns an empty store.
func NewIdempotency() *Idempotency {
	s := NewStore()
	return &Idempotency{Store: s, IdempotencyStore: s.Stores().Idempotency}
}

// Len returns how many keys the store holds.
func (s *Idempotency) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data.idem)
}

// BeginIdempotency stores r in progress; EConflict with the record held.
func (v view) BeginIdempotency(_ context.Context, sub ports.SubscriptionID, r ports.IdempotencyRecord) (ports.IdempotencyRecord, error) {
	d, done, err := v.enter("BeginIdempotency")
	if err != nil {
		return ports.IdempotencyRecord{}, err
	}
	defer done()
	k := idemKey{sub, r.Key}
	if old, ok := d.idem[k]; ok {
		return cloneIdem(old), ports.Errorf(ports.EConflict, "idempotency key already exists")
	}
	r.SubscriptionID, r.State = sub, ports.IdempotencyInProgress
	r.Status, r.ContentType, r.Body = 0, "", nil
	r.CreatedAt, r.ExpiresAt = idemTime(r.CreatedAt), idemTime(r.ExpiresAt)
	d.idem[k] = r
	return cloneIdem(r), nil
}

// CompleteIdempotency stores the answer of the in-progress claim id.
func (v view) CompleteIdempotency(_ context.Context, sub ports.SubscriptionID, key, id string, status int, contentType string, body []byte) error {
	d, done, err := v.enter("CompleteIdempotency")
	if err != nil {
		return err
	}
	defer done()
	k := idemKey{sub, key}
	r, ok := d.idem[k]
	if !ok || r.ID != id || r.State != ports.IdempotencyInProgress {
		return ports.Errorf(ports.ENotFound, "idempotency key not found")
	}
	r.State, r.Status, r.ContentType, r.Body = ports.IdempotencyDone, status, contentType, slices.Clone(body)
	d.idem[k] = r
	return nil
}

// ReleaseIdempotency deletes the claim id of key, if it is there.
func (v view) ReleaseIdempotency(_ context.Context, sub ports.SubscriptionID, key, id string) error {
	d, done, err := v.enter("ReleaseIdempotency")
	if err != nil {
		return err
	}
	defer done()
	k := idemKey{sub, key}
	if r, ok := d.idem[k]; ok && r.ID == id {
		delete(d.idem, k)
	}
	return nil
}

// PurgeIdempotency deletes the keys that expired before the given time.
func (v view) PurgeIdempotency(_ context.Context, before time.Time) (int, error) {
	d, done, err := v.enter("PurgeIdempotency")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for k, r := range d.idem {
		if r.ExpiresAt.Before(before) {
			delete(d.idem, k)
			n++
		}
	}
	return n, nil
}

func cloneIdem(r ports.IdempotencyRecord) ports.IdempotencyRecord {
	r.Body = slices.Clone(r.Body)
	return r
}

// idemTime keeps a time as the real stores do: UTC, microseconds.
func idemTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
