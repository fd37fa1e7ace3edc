package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// InstanceLease says which node holds an instance's WhatsApp connection,
// until when. It lives in the database rather than in Redis so that it is
// checked against the same truth as the instances, and so that a Redis
// flush can never let two nodes log in one device (WhatsApp would kick one
// of them: "replaced").
type InstanceLease struct{ ent.Schema }

// Fields of InstanceLease.
func (InstanceLease) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("node_id").MaxRuneLen(128).NotEmpty(),
		field.Time("expires_at"),
		// epoch counts the changes of owner: a fencing token.
		field.Int64("epoch").Default(1),
	}
}

// Indexes of InstanceLease.
func (InstanceLease) Indexes() []ent.Index {
	return []ent.Index{index.Fields("node_id")}
}
