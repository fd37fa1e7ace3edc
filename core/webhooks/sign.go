package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers of a delivery.
const (
	HeaderID        = "webhook-id"        // the event id: stable across retries, receivers deduplicate on it
	HeaderTimestamp = "webhook-timestamp" // unix seconds of the attempt
	HeaderSignature = "webhook-signature" // space-separated "v1,<base64>" signatures
)

// RotationOverlap is how long the previous secret keeps signing after a
// rotation, so that receivers can switch without losing a delivery.
const RotationOverlap = 24 * time.Hour

// Sign returns the webhook-signature header value: for each secret, in
// order, "v1," and the standard base64 of HMAC-SHA256(secret,
// "{msgID}.{unix seconds of at}.{body}"), separated by spaces. With no
// secrets it returns "".
func Sign(msgID string, at time.Time, body []byte, secrets ...[]byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, 0, len(secrets))
	for _, key := range secrets {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// Headers returns the three Standard Webhooks headers of an attempt at time
// at, keyed by their lower-case names.
func Headers(msgID string, at time.Time, body []byte, secrets ...[]byte) map[string]string {
	return map[string]string{
		HeaderID:        msgID,
		HeaderTimestamp: strconv.FormatInt(at.Unix(), 10),
		HeaderSignature: Sign(msgID, at, body, secrets...),
	}
}

// Rotation is an endpoint's signing keys: the current one and, for
// RotationOverlap after a rotation, the previous one.
type Rotation struct {
	Current   []byte
	Previous  []byte    // nil if the secret was never rotated
	RotatedAt time.Time // when Current replaced Previous
}

// Rotate returns the keys after next replaces the current key at now. Only
// one previous key is kept: rotating twice within RotationOverlap retires
// the oldest at once, since whoever rotated again already holds the key
// in between.
func (r Rotation) Rotate(next []byte, now time.Time) Rotation {
	return Rotation{Current: next, Previous: r.Current, RotatedAt: now}
}

// SecretsAt returns the keys that sign an attempt at t: the current key,
// then the previous one while t is before RotatedAt+RotationOverlap.
func (r Rotation) SecretsAt(t time.Time) [][]byte {
	keys := [][]byte{r.Current}
	if len(r.Previous) > 0 && t.Before(r.RotatedAt.Add(RotationOverlap)) {
		keys = append(keys, r.Previous)
	}
	return keys
}
