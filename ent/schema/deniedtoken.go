package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// DeniedToken is an access token id revoked before its expiry (logout).
type DeniedToken struct{ ent.Schema }

// Fields of DeniedToken. The id is the token's jti.
func (DeniedToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of DeniedToken.
func (DeniedToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}
