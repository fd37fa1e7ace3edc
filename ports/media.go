package ports

import (
	"context"
	"time"
)

// MessageMedia is the file of an image, document or audio message, kept
// with the message so that the worker sends exactly the bytes accepted and
// GET /messages/{id}/media returns exactly the bytes sent or received.
type MessageMedia struct {
	MessageID      MessageID
	SubscriptionID SubscriptionID
	MimeType       string // sniffed from the bytes (outbound) or as received
	FileName       string // documents; may be empty
	PTT            bool   // audio only: a voice note
	GIF            bool   // video only: plays looped
	Size           int64  // len(Data)
	SHA256         []byte // of Data
	Data           []byte
	CreatedAt      time.Time
}

// MediaStore keeps the files of media messages, one per message.
type MediaStore interface {
	// PutMedia stores the file of message md.MessageID; EConflict if that
	// message has a file already. The message row must exist (within the
	// same transaction, for an outbound message).
	PutMedia(ctx context.Context, sub SubscriptionID, md MessageMedia) error
	// GetMedia returns the file of a message; ENotFound if the message has
	// none or is another tenant's.
	GetMedia(ctx context.Context, sub SubscriptionID, id MessageID) (MessageMedia, error)
}

// MediaFetcher downloads the file of URL media (SPEC §6) through the SSRF
// guard, up to max bytes.
type MediaFetcher interface {
	// FetchMedia returns the body of a GET of url. ETooLarge
	// (payload_too_large) over max bytes; EInvalid with field media.url for a
	// URL the guard refuses, a redirect, or an answer other than 200;
	// also EInvalid (media.url) when the server cannot be reached: the
	// URL is the client's to fix.
	FetchMedia(ctx context.Context, url string, max int64) ([]byte, error)
}
