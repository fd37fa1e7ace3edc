package ports

import "context"

// QRCodeStore keeps each instance's current QR code where every node can
// read it (SPEC §14): the node holding the pairing writes it, and
// `GET /instances/{id}/qr` answers the same on any node. A code is kept
// until its ExpiresAt at most; there is one per instance.
type QRCodeStore interface {
	// PutQR replaces the instance's code with qr. EUnavailable when the
	// store cannot be reached.
	PutQR(ctx context.Context, id InstanceID, qr WAQRCode) error
	// GetQR returns the instance's code; false when there is none (never
	// shown, expired or deleted). EUnavailable when the store cannot be
	// reached.
	GetQR(ctx context.Context, id InstanceID) (WAQRCode, bool, error)
	// DeleteQR forgets the instance's code. Not an error when there is
	// none.
	DeleteQR(ctx context.Context, id InstanceID) error
}
