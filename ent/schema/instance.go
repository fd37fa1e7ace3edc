package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Instance is a linked WhatsApp number.
type Instance struct{ ent.Schema }

// Fields of Instance.
func (Instance) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("subscription_id").MaxRuneLen(64).NotEmpty().Immutable(),
		field.String("name").MaxRuneLen(100).NotEmpty(),
		field.String("status").MaxRuneLen(32).NotEmpty(),
		field.String("status_reason").MaxRuneLen(64).Default(""),
		field.String("phone_number").MaxRuneLen(32).Default(""),
		field.String("jid").MaxRuneLen(128).Default(""),
		field.String("push_name").MaxRuneLen(200).Default(""),
		field.JSON("metadata", map[string]any{}).Optional(),
		field.String("proxy_url").MaxRuneLen(2048).Default("").Sensitive(),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
		field.Time("last_connected_at").Optional().Nillable(),
		// settings is the per-instance behaviour of SPEC §16 (reject
		// calls, auto-read, …), written and read by the store adapter.
		field.JSON("settings", InstanceSettings{}).Optional(),
	}
}

// Indexes of Instance.
func (Instance) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("subscription_id", "name").Unique(),
		index.Fields("status"),
	}
}

// InstanceSettings is the stored form of the per-instance behaviour.
type InstanceSettings struct {
	RejectCalls            bool   `json:"rejectCalls"`
	RejectCallMessage      string `json:"rejectCallMessage,omitempty"`
	AutoRead               bool   `json:"autoRead"`
	AlwaysOnline           bool   `json:"alwaysOnline"`
	IgnoreGroups           bool   `json:"ignoreGroups"`
	IgnoreStatusBroadcasts bool   `json:"ignoreStatusBroadcasts"`
}
