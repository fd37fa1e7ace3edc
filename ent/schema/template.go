package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Template is a message body with {{variable}} placeholders, owned by a
// subscription (SPEC §8). variables holds the placeholder names parsed when
// the body was saved, so that a bulk send can check its recipients'
// variables without parsing the body again.
type Template struct{ ent.Schema }

// Fields of Template.
func (Template) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("name").MaxRuneLen(100).NotEmpty(),
		field.Text("body").NotEmpty(),
		field.JSON("variables", []string{}),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
	}
}

// Indexes of Template.
func (Template) Indexes() []ent.Index {
	return []ent.Index{
		// Names are unique within a subscription; the list pages by id
		// within one.
		index.Fields("subscription_id", "name").Unique(),
		index.Fields("subscription_id", "id"),
	}
}
