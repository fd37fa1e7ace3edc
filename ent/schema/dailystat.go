package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// DailyStat holds one instance's counters of one UTC day (SPEC §11). Rows
// are only ever incremented, by an upsert that adds to the counters, so
// that concurrent writers never lose an increment.
type DailyStat struct{ ent.Schema }

// Fields of DailyStat.
func (DailyStat) Fields() []ent.Field {
	return []ent.Field{
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		// instance_id is empty for API calls made outside any instance.
		field.String("instance_id").MaxRuneLen(64).Default("").Immutable(),
		field.Time("day").Immutable().SchemaType(map[string]string{dialect.Postgres: "date", dialect.SQLite: "date"}),
		field.Int64("sent").Default(0),
		field.Int64("failed").Default(0),
		field.Int64("delivered").Default(0),
		field.Int64("read").Default(0),
		field.Int64("received").Default(0),
		field.Int64("api_calls").Default(0),
	}
}

// Indexes of DailyStat.
func (DailyStat) Indexes() []ent.Index {
	return []ent.Index{
		// The upsert's conflict target. Subscription is part of it so that
		// the subscription-wide row of API calls (empty instance) is one
		// per tenant and day.
		index.Fields("subscription_id", "instance_id", "day").Unique(),
	}
}
