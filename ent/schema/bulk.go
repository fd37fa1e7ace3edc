package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Bulk is a bulk send of one instance (SPEC §8): its recipients are
// message rows carrying the bulk's id and their place in it (bulk_seq), so
// that progress is a count over the messages and a restart resumes at the
// first recipient still queued. generation names the bulk's current run:
// every start or resume makes a new one, and a run job of an older
// generation stops, so that one bulk never has two runs sending at once.
type Bulk struct{ ent.Schema }

// Fields of Bulk.
func (Bulk) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		// status is scheduled, running, paused, completed or cancelled.
		field.String("status").MaxRuneLen(16).NotEmpty(),
		field.String("template_id").MaxRuneLen(64).Default(""),
		field.Text("text").Default(""),
		field.Int("total").NonNegative(),
		// The pause between two sends, a random value in between.
		field.Int("pacing_min_ms").NonNegative(),
		field.Int("pacing_max_ms").NonNegative(),
		field.Int("generation").Default(0),
		field.Time("scheduled_at").Optional().Nillable(),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		field.Time("started_at").Optional().Nillable(),
		field.Time("completed_at").Optional().Nillable(),
	}
}

// Indexes of Bulk.
func (Bulk) Indexes() []ent.Index {
	return []ent.Index{
		// Lists page by id within a subscription.
		index.Fields("subscription_id", "id"),
		// The bulk relay looks for running and scheduled bulks.
		index.Fields("status", "updated_at"),
	}
}
