package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Node is a running wagate process, known by its WAGATE_NODE_ID. Its
// heartbeat tells the others it is alive: the fair share of instances is
// divided among the nodes seen recently.
type Node struct{ ent.Schema }

// Fields of Node.
func (Node) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(128).NotEmpty().Immutable(),
		field.Time("heartbeat_at"),
		field.Time("started_at"),
	}
}

// Indexes of Node.
func (Node) Indexes() []ent.Index {
	return []ent.Index{index.Fields("heartbeat_at")}
}
