package ports

import (
	"context"
	"time"
)

// Chat is one conversation of an instance as its stored messages show it
// (SPEC §16): the chat JID, when its newest message was stored, and how
// many received messages of it are not marked read. Name is the contact's
// name from the address book, when known.
type Chat struct {
	Chat          string
	Name          string
	IsGroup       bool
	LastMessageAt time.Time
	UnreadCount   int
}

// ChatStore lists the chats of an instance from its stored messages. It is
// handed out on its own (like StatusCounts), not in Stores: it only reads.
type ChatStore interface {
	// ListChats pages through the chats of one instance, the chat with the
	// newest message first. UnreadCount counts the chat's inbound messages
	// without a read time. EInvalid for a cursor the store did not make; an
	// instance of another tenant has no chats.
	ListChats(ctx context.Context, sub SubscriptionID, inst InstanceID, page PageRequest) (Page[Chat], error)
}
