package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WebhookEndpoint is a URL that receives an instance's events. The secrets
// are kept as they sign (HMAC needs the key itself, not a hash); they are
// Sensitive so that ent never prints them.
type WebhookEndpoint struct{ ent.Schema }

// Fields of WebhookEndpoint.
func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("url").MaxRuneLen(2048).NotEmpty(),
		field.JSON("events", []string{}),
		field.String("description").MaxRuneLen(500).Default(""),
		field.Bool("enabled").Default(true),
		field.String("secret").MaxRuneLen(128).NotEmpty().Sensitive(),
		field.String("previous_secret").MaxRuneLen(128).Default("").Sensitive(),
		field.Time("rotated_at").Optional().Nillable(),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		field.Time("last_success_at").Optional().Nillable(),
		field.Time("first_failure_at").Optional().Nillable(),
		field.String("disabled_reason").MaxRuneLen(200).Default(""),
	}
}

// Indexes of WebhookEndpoint.
func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{
		// Fan-out reads an instance's endpoints on every event.
		index.Fields("subscription_id", "instance_id", "id"),
	}
}

// WebhookDelivery is one event for one endpoint: the outbox row of its
// delivery job, written before the job is enqueued. payload is the
// envelope's JSON, fixed at fan-out so that every attempt sends it as is.
type WebhookDelivery struct{ ent.Schema }

// Fields of WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("instance_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("endpoint_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("event_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("event_type").MaxRuneLen(32).NotEmpty().Immutable(),
		field.Bytes("payload").Immutable(),
		// status is pending, delivered, failed or dead.
		field.String("status").MaxRuneLen(16).NotEmpty(),
		field.Int("attempts").Default(0),
		field.Int("last_status_code").Default(0),
		field.String("last_error").MaxRuneLen(1024).Default(""),
		field.Text("last_response").Default(""),
		field.Int64("latency_ms").Default(0),
		field.Time("next_attempt_at").Optional().Nillable(),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
	}
}

// Indexes of WebhookDelivery.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		// The log pages newest first within one endpoint (ids are time-ordered).
		index.Fields("subscription_id", "endpoint_id", "id"),
		// The relay looks for pending rows whose attempt is overdue.
		index.Fields("status", "next_attempt_at"),
		// The retention purge walks a subscription's deliveries by age.
		index.Fields("subscription_id", "created_at"),
		// Delivery in order: an endpoint's oldest pending row, without
		// walking its delivered history.
		index.Fields("endpoint_id", "status", "id"),
		// One delivery per event and endpoint: a dispatcher that runs an
		// event again (two nodes at once) cannot double it.
		index.Fields("event_id", "endpoint_id").Unique(),
	}
}
