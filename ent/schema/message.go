package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Message is an outbound or inbound WhatsApp message of an instance. An
// outbound row is the outbox of its send job: it is written before the job
// is enqueued, and the relay re-enqueues rows whose job went missing.
type Message struct{ ent.Schema }

// Fields of Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		// direction is outbound or inbound.
		field.String("direction").MaxRuneLen(16).NotEmpty().Immutable(),
		field.String("chat").MaxRuneLen(128).Default(""),
		field.String("to").MaxRuneLen(128).Default(""),
		field.String("from").MaxRuneLen(128).Default(""),
		// The LIDs (…@lid) the chat and the sender were addressed by, when
		// a LID was involved (SPEC §6a); chat and from hold phone numbers
		// then, if known.
		field.String("chat_lid").MaxRuneLen(128).Default("").Immutable(),
		field.String("from_lid").MaxRuneLen(128).Default("").Immutable(),
		// type is text, image, video, audio, document, sticker, location,
		// contact, poll or unsupported.
		field.String("type").MaxRuneLen(16).NotEmpty(),
		field.Text("text").Default(""),
		field.Text("caption").Default(""),
		// The pin of a location message; latitude and longitude are set
		// together, on location messages only.
		field.Float("latitude").Optional().Nillable(),
		field.Float("longitude").Optional().Nillable(),
		field.String("location_name").MaxRuneLen(256).Default(""),
		field.String("location_address").MaxRuneLen(512).Default(""),
		// raw_type is WhatsApp's name of an inbound kind wagate does not
		// model (type unsupported), so that nothing arrives unseen.
		field.String("raw_type").MaxRuneLen(128).Default(""),
		// contacts (contact messages) and poll (poll messages, with the
		// votes received) are JSON written by the store adapter: they are
		// read with their message, never queried.
		field.Text("contacts").Default(""),
		field.Text("poll").Default(""),
		field.String("status").MaxRuneLen(16).NotEmpty(),
		field.String("error_code").MaxRuneLen(64).Default(""),
		field.String("error_message").MaxRuneLen(1024).Default(""),
		field.String("wa_message_id").MaxRuneLen(128).Default(""),
		field.String("reply_to").MaxRuneLen(128).Default(""),
		field.Int("attempts").Default(0),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		field.Time("sent_at").Optional().Nillable(),
		field.Time("delivered_at").Optional().Nillable(),
		field.Time("read_at").Optional().Nillable(),
		// A bulk send's recipient: the bulk's id and the recipient's place
		// in it. Such rows are sent by the bulk's run, not by a send job
		// of their own.
		field.String("bulk_id").MaxRuneLen(64).Optional().Nillable().Immutable(),
		field.Int("bulk_seq").Optional().Nillable().Immutable(),
		// What happened to the message after it was sent or received
		// (SPEC §6a): reactions, one per reacting account; an edit's time
		// (text or caption then holds the new content); a deletion for
		// everyone, and by whom.
		field.JSON("reactions", []MessageReaction{}).Optional(),
		field.Time("edited_at").Optional().Nillable(),
		field.Time("deleted_at").Optional().Nillable(),
		field.String("deleted_by").MaxRuneLen(128).Default(""),
		// mentions are the mentioned JIDs; is_forwarded marks a message
		// forwarded (sent or received as such).
		field.JSON("mentions", []string{}).Optional(),
		field.Bool("is_forwarded").Default(false),
		// link_preview: a text's first URL is sent with its preview.
		field.Bool("link_preview").Default(true),
	}
}

// MessageReaction is one account's reaction to a message.
type MessageReaction struct {
	From  string    `json:"from"`
	Emoji string    `json:"emoji"`
	At    time.Time `json:"at"`
}

// Indexes of Message.
func (Message) Indexes() []ent.Index {
	return []ent.Index{
		// Lists page newest first within one instance (ids are time-ordered).
		index.Fields("subscription_id", "instance_id", "id"),
		// The chat list (SPEC §16) groups an instance's messages by chat,
		// and a read mark looks up a chat's earlier messages.
		index.Fields("instance_id", "chat", "id"),
		// Receipts name messages by WhatsApp's id.
		index.Fields("instance_id", "wa_message_id"),
		// The relay looks for queued rows left behind.
		index.Fields("status", "updated_at"),
		// A bulk's run takes its recipients in order; progress counts
		// them by status.
		index.Fields("bulk_id", "status", "bulk_seq"),
		// The retention purge walks a subscription's messages by age: a
		// range of this index, stopping at the batch's limit.
		index.Fields("subscription_id", "created_at"),
		// Sends of one instance go out in order: the oldest queued first.
		// Partial: a bulk's thousands of queued recipients are sent by its
		// run, and the sender's look-up must not wade through them.
		index.Fields("instance_id", "status", "id").
			Annotations(entsql.IndexWhere("bulk_id IS NULL")),
	}
}
