package ports

import (
	"context"
	"time"
)

// The statuses a message reaches by an action on it (SPEC §6a): a queued
// message cancelled before it was sent, a sent one deleted for everyone.
const (
	MsgCancelled MessageStatus = "cancelled"
	MsgDeleted   MessageStatus = "deleted"
)

// The events of actions on messages (SPEC §10).
const (
	EventMessageReaction EventType = "message.reaction"
	EventMessageEdited   EventType = "message.edited"
	EventMessageDeleted  EventType = "message.deleted"
)

// Reaction is one account's reaction to a message; an account has at most
// one, and an empty emoji removes it.
type Reaction struct {
	From  string // JID of the reacting account; the instance's own for ours
	Emoji string
	At    time.Time
}

// MessageReactionData is the data of message.reaction ("" emoji: removed).
type MessageReactionData struct {
	MessageID MessageID
	From      string
	Emoji     string
}

// MessageEditedData is the data of message.edited.
type MessageEditedData struct {
	MessageID MessageID
	Text      string
	EditedAt  time.Time
}

// MessageDeletedData is the data of message.deleted.
type MessageDeletedData struct {
	MessageID MessageID
	DeletedAt time.Time
	By        string // JID of the account that deleted it
}

// WAMessageKey names a message on WhatsApp: its chat, its id, and whether
// the instance sent it (Sender is the author's JID when it did not, which
// groups need).
type WAMessageKey struct {
	Chat   string
	ID     string
	FromMe bool
	Sender string
}

// ChatPresence is what the instance shows a chat it is in.
type ChatPresence string

// The chat presences (SPEC §6a).
const (
	PresenceTyping    ChatPresence = "typing"
	PresenceRecording ChatPresence = "recording"
	PresencePaused    ChatPresence = "paused"
)

// WAActions is the port, implemented by the WhatsApp adapter, that acts on messages
// already sent or received, each at once (no outbox: nothing is queued).
// Every method is EConflict (instance_not_connected) when the instance is
// not connected and EUnavailable when WhatsApp did not answer.
type WAActions interface {
	// React sets the instance's reaction to the message key names; ""
	// removes it.
	React(ctx context.Context, id InstanceID, key WAMessageKey, emoji string) error
	// Edit replaces the text, or the caption, of a message the instance
	// sent (WhatsApp carries either as the edit's text).
	Edit(ctx context.Context, id InstanceID, key WAMessageKey, text string) error
	// Revoke deletes a message the instance sent, for everyone.
	Revoke(ctx context.Context, id InstanceID, key WAMessageKey) error
	// MarkRead marks received messages of a chat read; keys share one
	// chat and sender.
	MarkRead(ctx context.Context, id InstanceID, keys []WAMessageKey, at time.Time) error
	// SendChatPresence shows typing, recording or paused in a chat.
	SendChatPresence(ctx context.Context, id InstanceID, chat string, p ChatPresence) error
}

// WAInboundAction is what a contact did to a message (SPEC §6a): reacted
// (Emoji set, "" removed), edited (Edited true, Text or Caption the new
// content) or deleted it for everyone (Revoked).
type WAInboundAction struct {
	Target  WAMessageKey // the message acted on; FromMe: one the instance sent
	Emoji   string
	Edited  bool
	Text    string
	Revoked bool
}

// LinkPreviewer fetches what a link shows in a chat: the page's title,
// description and a small JPEG thumbnail, through the SSRF guard, bounded
// in size and time. Any error means no preview: the text goes without.
type LinkPreviewer interface {
	Preview(ctx context.Context, url string) (LinkPreview, error)
}
