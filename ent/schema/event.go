package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Event is one entry of the event log, appended in the transaction of the
// change it reports. position numbers a subscription's events from 1 in
// commit order (EventCursor hands them out); data is the envelope's "data"
// JSON, fixed at append.
type Event struct{ ent.Schema }

// Fields of Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.Int64("position").Immutable(),
		field.String("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("type").MaxRuneLen(32).NotEmpty().Immutable(),
		field.Bytes("data").Immutable(),
		field.Time("created_at").Immutable(),
	}
}

// Indexes of Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{
		// The dispatcher reads a subscription's events after its cursor.
		index.Fields("subscription_id", "position").Unique(),
		// The retention purge deletes the oldest.
		index.Fields("created_at"),
	}
}

// EventCursor is a subscription's place in the event log: appended is
// the last position handed out, dispatched the last one fanned out to
// webhooks and the realtime bus. Appending locks the row until commit,
// which makes positions commit in order.
type EventCursor struct{ ent.Schema }

// Fields of EventCursor.
func (EventCursor) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable().Comment("the subscription id"),
		field.Int64("appended").Default(0),
		field.Int64("dispatched").Default(0),
	}
}
