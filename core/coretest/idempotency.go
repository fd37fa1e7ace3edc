package coretest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Idempotency is an in-memory ports.IdempotencyStore with the real stores'
// rules: one record per (subscription, key), claims named by their id.
type Idempotency struct {
	// Hook, when set, runs at the start of every method with its name; a
	// non-nil error is returned instead of running the method.
	Hook func(method string) error

	mu   sync.Mutex
	keys map[idemKey]ports.IdempotencyRecord
}

type idemKey struct {
	sub ports.SubscriptionID
	key string
}

var _ ports.IdempotencyStore = (*Idempotency)(nil)

// NewIdempotency returns an empty store.
func NewIdempotency() *Idempotency {
	return &Idempotency{keys: map[idemKey]ports.IdempotencyRecord{}}
}

func (s *Idempotency) enter(method string) (func(), error) {
	s.mu.Lock()
	if s.Hook != nil {
		if err := s.Hook(method); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	return s.mu.Unlock, nil
}

// BeginIdempotency stores r in progress; EConflict with the record held.
func (s *Idempotency) BeginIdempotency(_ context.Context, sub ports.SubscriptionID, r ports.IdempotencyRecord) (ports.IdempotencyRecord, error) {
	done, err := s.enter("BeginIdempotency")
	if err != nil {
		return ports.IdempotencyRecord{}, err
	}
	defer done()
	k := idemKey{sub, r.Key}
	if old, ok := s.keys[k]; ok {
		return cloneIdem(old), ports.Errorf(ports.EConflict, "idempotency key already exists")
	}
	r.SubscriptionID, r.State = sub, ports.IdempotencyInProgress
	r.Status, r.ContentType, r.Body = 0, "", nil
	r.CreatedAt, r.ExpiresAt = idemTime(r.CreatedAt), idemTime(r.ExpiresAt)
	s.keys[k] = r
	return cloneIdem(r), nil
}

// CompleteIdempotency stores the answer of the in-progress claim id.
func (s *Idempotency) CompleteIdempotency(_ context.Context, sub ports.SubscriptionID, key, id string, status int, contentType string, body []byte) error {
	done, err := s.enter("CompleteIdempotency")
	if err != nil {
		return err
	}
	defer done()
	k := idemKey{sub, key}
	r, ok := s.keys[k]
	if !ok || r.ID != id || r.State != ports.IdempotencyInProgress {
		return ports.Errorf(ports.ENotFound, "idempotency key not found")
	}
	r.State, r.Status, r.ContentType, r.Body = ports.IdempotencyDone, status, contentType, slices.Clone(body)
	s.keys[k] = r
	return nil
}

// ReleaseIdempotency deletes the claim id of key, if it is there.
func (s *Idempotency) ReleaseIdempotency(_ context.Context, sub ports.SubscriptionID, key, id string) error {
	done, err := s.enter("ReleaseIdempotency")
	if err != nil {
		return err
	}
	defer done()
	k := idemKey{sub, key}
	if r, ok := s.keys[k]; ok && r.ID == id {
		delete(s.keys, k)
	}
	return nil
}

// PurgeIdempotency deletes the keys that expired before the given time.
func (s *Idempotency) PurgeIdempotency(_ context.Context, before time.Time) (int, error) {
	done, err := s.enter("PurgeIdempotency")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for k, r := range s.keys {
		if r.ExpiresAt.Before(before) {
			delete(s.keys, k)
			n++
		}
	}
	return n, nil
}

// Len returns how many keys the store holds.
func (s *Idempotency) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func cloneIdem(r ports.IdempotencyRecord) ports.IdempotencyRecord {
	r.Body = slices.Clone(r.Body)
	return r
}

// idemTime keeps a time as the real stores do: UTC, microseconds.
func idemTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
