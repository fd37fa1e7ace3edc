package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
)

// A key is "wag_" and 40 base62 characters: about 238 bits of entropy.
const (
	keyPrefix  = "wag_"
	keyRandLen = 40
	keyLen     = len(keyPrefix) + keyRandLen
	prefixLen  = 12 // shown in lists so that people can tell keys apart
	alphabet   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// newKeyValue draws the random part by rejection sampling: bytes of 248 and
// above are thrown away, so that every character is equally likely (a plain
// modulo would favour the first 8 characters of the alphabet).
func newKeyValue() (string, error) {
	const limit = 256 - 256%len(alphabet) // 248
	var b strings.Builder
	b.Grow(keyLen)
	b.WriteString(keyPrefix)
	buf := make([]byte, keyRandLen+keyRandLen/4)
	for b.Len() < keyLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("read random: %w", err)
		}
		for _, c := range buf {
			if int(c) >= limit {
				continue
			}
			b.WriteByte(alphabet[int(c)%len(alphabet)])
			if b.Len() == keyLen {
				break
			}
		}
	}
	return b.String(), nil
}

// wellFormed tells a possible key from garbage without a database query.
func wellFormed(key string) bool {
	if len(key) != keyLen || !strings.HasPrefix(key, keyPrefix) {
		return false
	}
	for i := len(keyPrefix); i < len(key); i++ {
		if strings.IndexByte(alphabet, key[i]) < 0 {
			return false
		}
	}
	return true
}

func hashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}
