package ports

import (
	"context"
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

// CreateHook is work a transport asks to be done inside the transaction
// that creates what its request asked for, given what was created (a
// Message, say). The HTTP adapter stores the Idempotency-Key answer this
// way, with the message it stands for: were the answer stored after the
// commit, a crash in between would leave a message whose key a retry could
// take over as stale and send a second time.
type CreateHook func(ctx context.Context, created any) error

type createHookKey struct{}

// WithCreateHook returns ctx carrying h for RunCreateHook.
func WithCreateHook(ctx context.Context, h CreateHook) context.Context {
	return context.WithValue(ctx, createHookKey{}, h)
}

// HasCreateHook reports whether ctx carries a hook: a module may then need
// a transaction it could do without.
func HasCreateHook(ctx context.Context) bool {
	h, ok := ctx.Value(createHookKey{}).(CreateHook)
	return ok && h != nil
}

// RunCreateHook runs the hook ctx carries, if any, with what was created.
// Core modules call it once their rows are written, inside the
// transaction; its error aborts the transaction.
func RunCreateHook(ctx context.Context, created any) error {
	if h, ok := ctx.Value(createHookKey{}).(CreateHook); ok && h != nil {
		return h(ctx, created)
	}
	return nil
}
