package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Export is a data export of a subscription (SPEC §18): the row tracks
// the job writing the ZIP and the file's expiry; the file itself lives in
// the export directory, named by the id.
type Export struct{ ent.Schema }

// Fields of Export.
func (Export) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("requested_by").MaxRuneLen(64).Default("").Immutable(),
		// pending, running, completed or failed.
		field.String("status").MaxRuneLen(16),
		field.Int64("size_bytes").Default(0),
		field.String("error").MaxRuneLen(1024).Default(""),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		field.Time("completed_at").Optional().Nillable(),
		field.Time("expires_at"),
		// unfinished_of is the subscription id while the export is
		// pending or running, NULL after: its unique index lets the
		// database refuse a second unfinished export of a subscription,
		// whichever node takes the request. (A partial unique index on
		// status would do the same, but PostgreSQL rewrites its predicate
		// and the migration check would see a change forever.)
		field.String("unfinished_of").MaxRuneLen(64).Optional().Nillable(),
	}
}

// Indexes of Export.
func (Export) Indexes() []ent.Index {
	return []ent.Index{
		// Lists page by id within a subscription.
		index.Fields("subscription_id", "id"),
		// At most one unfinished export per subscription (NULLs are
		// distinct in both SQLite and PostgreSQL).
		index.Fields("unfinished_of").Unique(),
		// The purge walks exports by expiry.
		index.Fields("expires_at"),
	}
}
