package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/wagate/wagate/ports"
)

// SecretPrefix starts every signing secret, as Standard Webhooks libraries
// expect (they strip it before decoding the base64 that follows).
const SecretPrefix = "whsec_"

// secretLen is the size of a new secret: 256 bits, the size of the
// HMAC-SHA256 key. Standard Webhooks allows 24 to 64 bytes, and DecodeSecret
// accepts that range so that any compliant secret can be used.
const (
	secretLen    = 32
	minSecretLen = 24
	maxSecretLen = 64
)

// secretEncoding is standard, padded base64 (what the Standard Webhooks
// libraries decode); Strict rejects non-zero padding bits, so that a secret
// has exactly one spelling.
var secretEncoding = base64.StdEncoding.Strict()

// NewSecret returns a new signing secret: "whsec_" and the padded standard
// base64 of 32 random bytes. It is shown to the client once (on create and
// rotate) and stored to sign with.
func NewSecret() (string, error) {
	key := make([]byte, secretLen)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return SecretPrefix + secretEncoding.EncodeToString(key), nil
}

// DecodeSecret returns the HMAC key of a "whsec_…" secret. EInvalid if the
// prefix is missing, the rest is not padded standard base64, or the key is
// not 24 to 64 bytes long. The message never repeats the secret.
func DecodeSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, invalidSecret("must start with " + SecretPrefix)
	}
	key, err := secretEncoding.DecodeString(enc)
	if err != nil {
		return nil, invalidSecret("must be " + SecretPrefix + " followed by padded standard base64")
	}
	if len(key) < minSecretLen || len(key) > maxSecretLen {
		return nil, invalidSecret(fmt.Sprintf("must encode %d to %d bytes", minSecretLen, maxSecretLen))
	}
	return key, nil
}

func invalidSecret(msg string) error {
	return ports.InvalidFields(ports.FieldError{Field: "secret", Message: msg})
}
