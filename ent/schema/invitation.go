package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Invitation asks someone to join a subscription (only its token's SHA-256).
type Invitation struct{ ent.Schema }

// Fields of Invitation.
func (Invitation) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("email").MaxRuneLen(254).NotEmpty().Immutable(),
		field.String("role").MaxRuneLen(16).NotEmpty().Immutable(),
		field.Bytes("hash").MaxLen(32).NotEmpty().Immutable().Sensitive(),
		field.String("invited_by").MaxRuneLen(64).Default("").Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("accepted_at").Optional().Nillable(),
	}
}

// Indexes of Invitation.
func (Invitation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("hash").Unique(),
		index.Fields("subscription_id", "id"),
	}
}
