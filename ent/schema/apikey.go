package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey is an instance's API key (only its SHA-256 is stored).
type APIKey struct{ ent.Schema }

// Fields of APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("name").MaxRuneLen(100).NotEmpty(),
		field.String("prefix").MaxRuneLen(16).NotEmpty().Immutable(),
		field.Bytes("hash").MaxLen(32).NotEmpty().Immutable().Sensitive(),
		field.Strings("scopes"),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
	}
}

// Indexes of APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("hash").Unique(),
		index.Fields("subscription_id", "instance_id"),
	}
}
