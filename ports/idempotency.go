package ports

import (
	"context"
	"fmt"
	"time"
)

// IdempotencyState is how far the request that first used a key got.
type IdempotencyState string

// The idempotency states.
const (
	IdempotencyInProgress IdempotencyState = "in_progress"
	IdempotencyDone       IdempotencyState = "done"
)

// IdempotencyRecord is one Idempotency-Key of a subscription (SPEC §6): the
// hash of the request that first used it and, once done, its answer.
type IdempotencyRecord struct {
	ID             string // this claim of the key; a takeover makes a new one
	SubscriptionID SubscriptionID
	Key            string
	RequestHash    string
	State          IdempotencyState
	Status         int // the answer's HTTP status, once done
	ContentType    string
	Body           []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// IdempotencyStore keeps idempotency keys, unique per subscription.
type IdempotencyStore interface {
	// BeginIdempotency stores r, in progress. If the subscription holds
	// r.Key already (expired or not), it returns that record and EConflict.
	BeginIdempotency(ctx context.Context, sub SubscriptionID, r IdempotencyRecord) (IdempotencyRecord, error)
	// CompleteIdempotency marks the in-progress claim id of key done with
	// the answer. ENotFound if that claim is not there in progress (it was
	// released or taken over).
	CompleteIdempotency(ctx context.Context, sub SubscriptionID, key, id string, status int, contentType string, body []byte) error
	// ReleaseIdempotency deletes the claim id of key, so that the key can
	// be used again. A missing claim is not an error.
	ReleaseIdempotency(ctx context.Context, sub SubscriptionID, key, id string) error
	// PurgeIdempotency deletes every key, of every subscription, that
	// expired before the given time; it returns how many went.
	PurgeIdempotency(ctx context.Context, before time.Time) (int, error)
}

// IdempotencyAnswer is the answer stored for an Idempotency-Key and
// replayed to its repeats. The core keeps it as the transport rendered it.
type IdempotencyAnswer struct {
	Status      int // the transport's status code
	ContentType string
	Body        []byte
}

// IdempotencyClaim is a request's claim of an Idempotency-Key, handed to
// the core command that creates what the request asks for (T: a Message, a
// BulkSummary). The command records the answer in the transaction that
// creates it: were the answer stored after the commit, a crash in between
// would leave a resource whose key a retry could take over as stale and
// create a second time.
type IdempotencyClaim[T any] struct {
	Key string
	ID  string // the claim's IdempotencyRecord.ID
	// Answer renders the answer to what was created; it runs inside the
	// transaction, and its error aborts it.
	Answer func(created T) (IdempotencyAnswer, error)
}

// Record stores the answer to created as the claim's through st, the
// creating transaction's store. A nil claim records nothing. ENotFound if
// the claim is no longer in progress (released or taken over).
func (c *IdempotencyClaim[T]) Record(ctx context.Context, st IdempotencyStore, sub SubscriptionID, created T) error {
	if c == nil {
		return nil
	}
	a, err := c.Answer(created)
	if err != nil {
		return err
	}
	if err := st.CompleteIdempotency(ctx, sub, c.Key, c.ID, a.Status, a.ContentType, a.Body); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}
