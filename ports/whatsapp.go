package ports

import (
	"context"
	"time"
)

// WhatsApp drives the linked devices of instances on the WhatsApp network
// (or on the simulated one of sandbox mode). Calls return quickly; how a
// connection evolves arrives as WAEvents on the handler given to the
// adapter. Instances are addressed by InstanceID; the adapter keeps the
// device credentials.
type WhatsApp interface {
	// Connect opens the instance's connection: a stored device logs in, an
	// unlinked one starts QR pairing (at most 3 codes, then it gives up with
	// reason qr_timeout). Connecting an instance that is already connected
	// or connecting is not an error. EInvalid for a bad proxy URL.
	Connect(ctx context.Context, id InstanceID, opt ConnectOptions) error
	// PairCode asks for a code to link by phone number instead of QR.
	// EConflict (not_awaiting_qr) unless the instance is waiting to pair;
	// EInvalid for a malformed phone number.
	PairCode(ctx context.Context, id InstanceID, phone string) (string, error)
	// Disconnect closes the connection and keeps the link. Not an error if
	// the instance is not connected.
	Disconnect(ctx context.Context, id InstanceID) error
	// Logout unlinks the device and deletes its credentials. Not an error if
	// there is nothing to unlink.
	Logout(ctx context.Context, id InstanceID) error
	// CheckNumbers reports which phone numbers (digits only, with country
	// code) are on WhatsApp. EConflict (instance_not_connected) when the
	// instance is not connected.
	CheckNumbers(ctx context.Context, id InstanceID, phones []string) ([]NumberCheck, error)
	// Send sends one message and returns WhatsApp's id for it (m.ID when
	// set).
	// EConflict (instance_not_connected) when not connected; EInvalid for a
	// recipient WhatsApp refuses.
	Send(ctx context.Context, id InstanceID, m WAOutbound) (WASent, error)
}

// ConnectOptions are per-instance connection settings.
type ConnectOptions struct {
	ProxyURL string // http(s):// or socks5:// proxy; empty: direct
	JID      string // the linked device, when the instance was linked before
	// Subscription owns the instance; the adapter stamps it on the
	// instance's events, so that handlers need no lookup to find the tenant.
	Subscription SubscriptionID
}

// NumberCheck is the answer for one phone number.
type NumberCheck struct {
	PhoneNumber string
	Exists      bool
	JID         string
}

// WAMediaKind is the kind of media of a message.
type WAMediaKind string

// The media kinds.
const (
	MediaImage    WAMediaKind = "image"
	MediaDocument WAMediaKind = "document"
	MediaAudio    WAMediaKind = "audio"
)

// WAMedia is a file attached to a message.
type WAMedia struct {
	Kind     WAMediaKind
	Data     []byte
	MimeType string
	FileName string
	PTT      bool // audio only: a voice note
	GIF      bool // video only: plays looped
}

// WALocation is a shared location.
type WALocation struct {
	Latitude, Longitude float64
	Name, Address       string
}

// WAOutbound is one message to send. Exactly one of Text, Media or
// Location is set; Caption goes with Media. ID, when set, is the message's
// WhatsApp id, chosen before the send so that a resend after a crash
// carries the same id and the recipient drops it as a repeat; empty: the
// adapter picks one.
type WAOutbound struct {
	ID       string
	To       string // a JID (user@s.whatsapp.net or group@g.us)
	Text     string
	Caption  string
	Media    *WAMedia
	Location *WALocation
	Contacts []ContactCard
	Poll     *Poll  // question, options and MultipleAnswers
	ReplyTo  string // WhatsApp id of the quoted message
	// Quoted is the quoted message's content and author, when known, for
	// the recipient's display of the reply (ReplyTo alone still links it).
	Quoted *WAQuoted
	// Mentions are JIDs mentioned in the text (each as @number in it);
	// Forwarded marks a forward; Preview, on text, is the link preview.
	Mentions  []string
	Forwarded bool
	Preview   *LinkPreview
}

// WAQuoted is the message a reply quotes.
type WAQuoted struct {
	Sender string // the author's JID
	Text   string
}

// LinkPreview is what a text's first URL shows (SPEC §6a).
type LinkPreview struct {
	URL, Title, Description string
	Thumbnail               []byte // JPEG, small
}

// WASent is what WhatsApp answered to a send.
type WASent struct {
	WAMessageID string
	Timestamp   time.Time
}

// WAEventKind tells WAEvents apart.
type WAEventKind string

// The event kinds.
const (
	WAStatus  WAEventKind = "status"  // the connection changed; see Status
	WAQR      WAEventKind = "qr"      // a new QR code to scan; see QR
	WAMessage WAEventKind = "message" // an inbound message; see Message
	WAReceipt WAEventKind = "receipt" // a delivery or read receipt; see Receipt
)

// WAEvent is something that happened on an instance's connection.
// Subscription is the one given to the instance's Connect: handlers act
// within that tenant.
type WAEvent struct {
	Subscription SubscriptionID
	Instance     InstanceID
	Kind         WAEventKind
	At           time.Time
	Status       *WAStatusChange
	QR           *WAQRCode
	Message      *WAInbound
	Receipt      *WAReceiptEvent
	PollVote     *WAPollVote
	Call         *WACall        // Kind WACallKind
	Group        *WAGroupChange // WAGroupChangeKind
}

// WAStatusChange is a new connection status. Linked-device details are set
// once connected.
type WAStatusChange struct {
	Status      InstanceStatus
	Reason      string // e.g. network, qr_timeout, replaced, manual, unlinked
	JID         string
	PhoneNumber string
	PushName    string
	Degraded    bool // connected but keepalives failing
}

// WAQRCode is one QR code of a pairing attempt.
type WAQRCode struct {
	Code      string
	Attempt   int // 1..3
	ExpiresAt time.Time
}

// WAInbound is a message received by an instance.
type WAInbound struct {
	WAMessageID string
	Chat        string // the chat JID
	From        string // the sender JID
	PushName    string
	Timestamp   time.Time
	Text        string
	Caption     string
	Media       *WAMedia
	Location    *WALocation
	Contacts    []ContactCard
	Poll        *Poll
	RawType     string // set, alone, for a kind not modelled
	ReplyTo     string
	Mentions    []string // mentioned JIDs
	IsForwarded bool
	// Action, when set, is a reaction, edit or deletion of another message
	// rather than a message of its own.
	Action *WAInboundAction

	// ChatLID and FromLID are the LIDs (…@lid) Chat and From were
	// addressed by, when a LID was involved; Chat and From are then the
	// phone numbers if known, else these LIDs again (SPEC §6a).
	ChatLID, FromLID string
}

// WAReceiptType is how far a sent message got.
type WAReceiptType string

// The receipt types.
const (
	ReceiptDelivered WAReceiptType = "delivered"
	ReceiptRead      WAReceiptType = "read"
)

// WAReceiptEvent reports that messages reached or were read by a contact.
type WAReceiptEvent struct {
	Chat        string // a phone-number JID when the chat's LID is mapped
	ChatLID     string // the LID the receipt named the chat by, if any
	From        string
	Type        WAReceiptType
	WAMessageID []string
	Timestamp   time.Time
}

// WADeviceRemover is an optional capability of a WhatsApp adapter: unlink
// a device known only by its JID, for an instance with no connection in
// this process (one deleted while disconnected, or not reconnected since a
// restart), where Logout has nothing to act on. Not an error if the device
// is gone already.
type WADeviceRemover interface {
	RemoveDevice(ctx context.Context, id InstanceID, jid string) error
}
