package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// MessageMedia is the file of an image, document or audio message, one row
// per message (its id is the message's). Outbound files are written in the
// transaction of their message row, so the worker always finds them;
// inbound ones by the handler that stores the received message.
type MessageMedia struct{ ent.Schema }

// Annotations of MessageMedia.
func (MessageMedia) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "message_media"}}
}

// Fields of MessageMedia.
func (MessageMedia) Fields() []ent.Field {
	return []ent.Field{
		// id is the message's id.
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("mime_type").MaxRuneLen(128).Default(""),
		field.String("file_name").MaxRuneLen(255).Default(""),
		field.Bool("ptt").Default(false),
		field.Bool("gif").Default(false), // video: plays looped, as a GIF
		field.Int64("size").Default(0),
		field.Bytes("sha256").MaxLen(32),
		field.Bytes("data"),
		field.Time("created_at").Immutable(),
	}
}

// Indexes of MessageMedia: the retention purge walks media by age; an
// export pages through a subscription's files by id.
func (MessageMedia) Indexes() []ent.Index {
	return []ent.Index{index.Fields("subscription_id", "created_at"), index.Fields("subscription_id", "id")}
}
