package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// Subscription is a tenant.
type Subscription struct{ ent.Schema }

// Fields of Subscription.
func (Subscription) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("tier").MaxRuneLen(16).NotEmpty(),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		// The retention of SPEC §18, in days (0: forever); nil: the
		// platform default (WAGATE_RETENTION) applies.
		field.Int("retention_messages_days").Optional().Nillable(),
		field.Int("retention_media_days").Optional().Nillable(),
		field.Int("retention_deliveries_days").Optional().Nillable(),
		field.Int("retention_audit_days").Optional().Nillable(),
	}
}
