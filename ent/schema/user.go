package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is a person who logs in.
type User struct{ ent.Schema }

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("email").MaxRuneLen(254).NotEmpty(),
		field.String("name").MaxRuneLen(200),
		field.String("password_hash").MaxRuneLen(255).Sensitive(),
		field.String("role").MaxRuneLen(16),
		field.Int("token_version").Default(0),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		// The role in the subscription (SPEC §17); users from before teams
		// were each alone in theirs, so the default makes them its owner.
		// Last, so that SQLite adds the column rather than rebuilding.
		field.String("member_role").MaxRuneLen(16).Default("owner"),
	}
}

// Indexes of User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("email").Unique(),
		index.Fields("subscription_id"),
	}
}
