package ports

import (
	"context"
	"time"
)

// MessageID identifies a message (ours, not WhatsApp's).
type MessageID string

// Direction tells sent messages from received ones.
type Direction string

// The directions.
const (
	DirectionOutbound Direction = "outbound"
	DirectionInbound  Direction = "inbound"
)

// MessageType is what a message carries (SPEC §6).
type MessageType string

// The message types.
const (
	MessageText     MessageType = "text"
	MessageImage    MessageType = "image"
	MessageDocument MessageType = "document"
	MessageAudio    MessageType = "audio"
	MessageLocation MessageType = "location"
)

// MessageStatus is how far a message got. Outbound messages move
// queued → sending → sent → delivered → read, or end failed; inbound
// messages are received.
type MessageStatus string

// The message statuses.
const (
	MsgQueued    MessageStatus = "queued"
	MsgSending   MessageStatus = "sending"
	MsgSent      MessageStatus = "sent"
	MsgDelivered MessageStatus = "delivered"
	MsgRead      MessageStatus = "read"
	MsgFailed    MessageStatus = "failed"
	MsgReceived  MessageStatus = "received"
)

// Message is one outbound or inbound message of an instance. Chat, To and
// From are JIDs. ErrorCode and ErrorMessage are set when Status is failed.
type Message struct {
	ID             MessageID
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	Direction      Direction
	Chat, To, From string
	Type           MessageType
	Text, Caption  string
	Location       *WALocation   // set on location messages
	Contacts       []ContactCard // set on contact messages
	Poll           *Poll         // set on poll messages, with its votes
	RawType        string        // WhatsApp's field name of an unsupported kind
	Status         MessageStatus
	ErrorCode      string
	ErrorMessage   string
	WAMessageID    string // WhatsApp's id, once sent or as received
	ReplyTo        string // WhatsApp id of the quoted message
	Attempts       int    // send attempts started
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SentAt         *time.Time
	DeliveredAt    *time.Time
	ReadAt         *time.Time
	// BulkID and BulkSeq place a bulk send's recipient in its bulk (zero
	// for other messages). Such a message is sent by the bulk's run, not
	// by a send job of its own.
	BulkID  BulkID
	BulkSeq int
	// What happened after the send or receipt (SPEC §6a; message_actions.go).
	Reactions   []Reaction
	EditedAt    *time.Time // Text or Caption holds the edited content
	DeletedAt   *time.Time // deleted for everyone
	DeletedBy   string     // the JID that deleted it
	Mentions    []string   // mentioned JIDs
	IsForwarded bool
	// NoLinkPreview: a text's URL is sent without its preview.
	NoLinkPreview bool

	// ChatLID and FromLID are the LIDs (…@lid) the chat and the sender
	// were addressed by, when a LID was involved (SPEC §6a).
	ChatLID, FromLID string
}

// WithSendOutcome returns m with the columns a send's outcome moves
// (MessageStore.SetSendOutcome) taken from out.
func (m Message) WithSendOutcome(out Message) Message {
	m.Status, m.Attempts, m.ErrorCode, m.ErrorMessage = out.Status, out.Attempts, out.ErrorCode, out.ErrorMessage
	m.WAMessageID, m.SentAt, m.UpdatedAt = out.WAMessageID, out.SentAt, out.UpdatedAt
	return m
}

// MessageFilter selects the messages of one instance; empty fields match
// all, a zero Since any creation time.
type MessageFilter struct {
	InstanceID InstanceID // required
	Direction  Direction
	Status     MessageStatus
	// Chat matches a message whose chat or chat LID is Chat or ChatAlt:
	// a chat is named by its phone number or its LID alike (SPEC §6a),
	// and ChatAlt is the other form when it is known.
	Chat, ChatAlt string
	Since         time.Time // created at or after
}

// MessageStore keeps messages. Lists are newest first.
type MessageStore interface {
	// CreateMessage stores m; EConflict if the id exists.
	CreateMessage(ctx context.Context, sub SubscriptionID, m Message) error
	// GetMessage returns ENotFound if missing or another tenant's.
	GetMessage(ctx context.Context, sub SubscriptionID, id MessageID) (Message, error)
	// ListMessages pages through one instance's messages matching f,
	// newest first. EInvalid for a cursor the store did not make.
	ListMessages(ctx context.Context, sub SubscriptionID, f MessageFilter, page PageRequest) (Page[Message], error)
	// FindMessageByWAID returns the instance's message with WhatsApp's id
	// waID (the newest, should there be several); ENotFound if none.
	FindMessageByWAID(ctx context.Context, sub SubscriptionID, inst InstanceID, waID string) (Message, error)
	// UpdateMessage loads the message under a lock, applies fn and saves
	// it. ENotFound if missing; fn's error aborts the update and is
	// returned.
	UpdateMessage(ctx context.Context, sub SubscriptionID, id MessageID, fn func(*Message) error) (Message, error)
	// ClaimKnown is ClaimForSend for a caller that holds the message as
	// the store returned it (known): when the row is still known (its
	// status, UpdatedAt, attempts and WhatsApp id) and claimable, it is
	// claimed in one write without a read, and known as claimed is
	// returned with true; else nothing is written and false returned (the
	// caller then calls ClaimForSend, which says why).
	ClaimKnown(ctx context.Context, known Message, at, staleBefore time.Time, waID string) (Message, bool, error)
	// SetSendOutcome writes the columns a send's outcome moves (Status,
	// Attempts, ErrorCode, ErrorMessage, WAMessageID, SentAt, UpdatedAt)
	// from out to the message known, without reading it first, provided
	// its row still has known's Status and UpdatedAt: known is the message
	// as the store returned it (from ClaimForSend), and no write since
	// changed it. It returns known with out's outcome columns, as stored,
	// and true; false and nothing written when the row moved on or is
	// gone (the caller then takes UpdateMessage's way).
	SetSendOutcome(ctx context.Context, known, out Message) (Message, bool, error)
	// ClaimForSend atomically moves a message that is queued, or sending
	// with a claim older than staleBefore (UpdatedAt before it: the worker
	// that claimed it is taken for dead), to sending, counts one attempt
	// and sets UpdatedAt to at, so that of two workers only one sends it.
	// A message without WhatsApp's id gets waID as its id in the same
	// write, before anything is sent; one that has an id keeps it, so
	// that every send of a message carries the same id and the recipient
	// drops a repeat. ENotFound if missing or another tenant's; EConflict
	// if it is in another status or its claim is fresh; EInvalid if waID
	// is empty.
	ClaimForSend(ctx context.Context, sub SubscriptionID, id MessageID, at, staleBefore time.Time, waID string) (Message, error)
	// NextToSend returns the instance's oldest (by id) outbound message
	// that is queued or sending and not part of a bulk, with an id after
	// after ("" for any): the message its send jobs must send next, or
	// wait for when its claim is fresh; with after, the one that follows
	// the message in flight. ENotFound if there is none.
	NextToSend(ctx context.Context, sub SubscriptionID, inst InstanceID, after MessageID) (Message, error)
	// FollowingToSend returns up to limit of the messages NextToSend
	// would return one after another with after set to the one before:
	// the ones to claim behind the message in flight, oldest first; none
	// (an empty slice) when there are none.
	FollowingToSend(ctx context.Context, sub SubscriptionID, inst InstanceID, after MessageID, limit int) ([]Message, error)
}

// MessageOutbox is the system-level view of the send backlog, across every
// subscription, for the relay that re-enqueues the jobs of messages left
// behind (a crash between commit and enqueue or during a send, a queue
// that lost its data).
type MessageOutbox interface {
	// ListStuck returns up to limit outbound messages that are queued or
	// sending, were last updated before olderThan and are not part of a
	// bulk (a bulk's run sends those), oldest update first.
	ListStuck(ctx context.Context, olderThan time.Time, limit int) ([]Message, error)
}

// MessageStatusData is the data of message.status.
type MessageStatusData struct {
	MessageID    MessageID
	Status       MessageStatus
	ErrorCode    string // set when failed
	ErrorMessage string
}
