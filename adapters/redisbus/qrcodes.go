package redisbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/ports"
)

// QRCodes is the ports.QRCodeStore of several nodes: each instance's
// current QR code is one Redis key, <Prefix>:qr:<instance>, that expires
// with the code, so that `GET /instances/{id}/qr` answers the same on
// every node whichever holds the pairing.
type QRCodes struct {
	rdb    *redis.Client
	prefix string
	clock  ports.Clock
}

var _ ports.QRCodeStore = (*QRCodes)(nil)

// NewQRCodes returns the store; clock decides when a code has expired.
func NewQRCodes(rdb *redis.Client, prefix string, clock ports.Clock) *QRCodes {
	return &QRCodes{rdb: rdb, prefix: prefix + ":qr:", clock: clock}
}

// qrRecord is a code as it is kept.
type qrRecord struct {
	Code      string    `json:"code"`
	Attempt   int       `json:"attempt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// PutQR keeps qr until it expires; an expired code is not kept.
func (q *QRCodes) PutQR(ctx context.Context, id ports.InstanceID, qr ports.WAQRCode) error {
	ttl := qr.ExpiresAt.Sub(q.clock.Now())
	if ttl <= 0 {
		return q.DeleteQR(ctx, id)
	}
	b, err := json.Marshal(qrRecord{Code: qr.Code, Attempt: qr.Attempt, ExpiresAt: qr.ExpiresAt})
	if err != nil {
		return fmt.Errorf("encode QR code: %w", err)
	}
	if err := q.rdb.Set(ctx, q.prefix+string(id), b, ttl).Err(); err != nil {
		return ports.Errorf(ports.EUnavailable, "keep the QR code of %s: %v", id, err)
	}
	return nil
}

// GetQR returns the instance's code, if one is kept.
func (q *QRCodes) GetQR(ctx context.Context, id ports.InstanceID) (ports.WAQRCode, bool, error) {
	b, err := q.rdb.Get(ctx, q.prefix+string(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return ports.WAQRCode{}, false, nil
	}
	if err != nil {
		return ports.WAQRCode{}, false, ports.Errorf(ports.EUnavailable, "read the QR code of %s: %v", id, err)
	}
	var r qrRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return ports.WAQRCode{}, false, fmt.Errorf("decode the QR code of %s: %w", id, err)
	}
	return ports.WAQRCode{Code: r.Code, Attempt: r.Attempt, ExpiresAt: r.ExpiresAt}, true, nil
}

// DeleteQR forgets the instance's code.
func (q *QRCodes) DeleteQR(ctx context.Context, id ports.InstanceID) error {
	if err := q.rdb.Del(ctx, q.prefix+string(id)).Err(); err != nil {
		return ports.Errorf(ports.EUnavailable, "forget the QR code of %s: %v", id, err)
	}
	return nil
}
