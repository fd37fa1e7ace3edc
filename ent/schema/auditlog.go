package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditLog is one line of the audit log.
type AuditLog struct{ ent.Schema }

// Fields of AuditLog.
func (AuditLog) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).Default("").Immutable(),
		field.Time("at").Immutable(),
		field.String("action").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("actor_user_id").MaxRuneLen(64).Default("").Immutable(),
		field.String("actor_api_key_id").MaxRuneLen(64).Default("").Immutable(),
		field.String("target_type").MaxRuneLen(32).Default("").Immutable(),
		field.String("target_id").MaxRuneLen(64).Default("").Immutable(),
		field.String("ip").MaxRuneLen(64).Default("").Immutable(),
		field.String("user_agent").MaxRuneLen(512).Default("").Immutable(),
		field.JSON("details", map[string]any{}).Optional().Immutable(),
	}
}

// Indexes of AuditLog.
func (AuditLog) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("subscription_id", "id"),
		index.Fields("subscription_id", "at"), // the retention purge
	}
}
