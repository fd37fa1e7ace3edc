package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// IdempotencyKey is one Idempotency-Key a subscription used (SPEC §6): the
// hash of the request it first came with and, once that request is
// answered, the answer to replay. A row is in_progress from the first
// request until its answer is stored, then done; it expires after 24 h.
type IdempotencyKey struct{ ent.Schema }

// Fields of IdempotencyKey.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		// id names one claim of the key, so that a late writer whose
		// claim was taken over cannot complete or release the new one.
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("key").MaxRuneLen(255).NotEmpty().Immutable(),
		field.String("request_hash").MaxRuneLen(128).NotEmpty().Immutable(),
		// state is in_progress or done.
		field.String("state").MaxRuneLen(16).NotEmpty(),
		field.Int("status").Default(0),
		field.String("content_type").MaxRuneLen(128).Default(""),
		field.Bytes("body").Optional(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at"),
	}
}

// Indexes of IdempotencyKey.
func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{
		// A key is the subscription's: the database decides which of two
		// concurrent first requests wins.
		index.Fields("subscription_id", "key").Unique(),
		// The purge deletes expired rows.
		index.Fields("expires_at"),
	}
}
