// Package argon2id hashes passwords with Argon2id (RFC 9106) and encodes
// them as PHC strings, so that each hash carries its own parameters and the
// cost can be raised later without invalidating stored hashes.
package argon2id

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/wagate/wagate/ports"
)

// Params are the Argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's recommendation: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash: a corrupted or planted hash
// must not make a login allocate gigabytes or loop for minutes.
const (
	maxMemory = 1 << 20 // 1 GiB
	maxTime   = 64
	minKeyLen = 16
	maxKeyLen = 128
	minSalt   = 8
	maxSalt   = 64
)

// Hasher is a ports.PasswordHasher.
type Hasher struct {
	p Params
	// slots bounds concurrent derivations to the number of CPUs: one lane
	// keeps one core busy, so more at once would only add latency and 19 MiB
	// of memory each — a burst of logins must not exhaust memory.
	slots chan struct{}
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// New returns a Hasher that makes new hashes with p.
func New(p Params) *Hasher {
	return &Hasher{p: p, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// Default returns a Hasher with DefaultParams.
func Default() *Hasher { return New(DefaultParams) }

// ErrMalformed is returned by Verify for a hash it cannot read.
var ErrMalformed = errors.New("argon2id: malformed hash")

// Hash returns `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` with unpadded
// standard base64, the format other Argon2 libraries read.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	return encode(h.p, salt, h.derive(password, salt, h.p)), nil
}

// Verify recomputes the hash with the parameters and salt stored in it and
// compares in constant time. ErrMalformed for a hash it cannot read.
func (h *Hasher) Verify(hash, password string) (bool, error) {
	p, salt, key, err := decode(hash)
	if err != nil {
		return false, err
	}
	got := h.derive(password, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(hash string) (Params, []byte, []byte, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version || parts[2] != fmt.Sprintf("v=%d", version) {
		return Params{}, nil, nil, fmt.Errorf("%w: version", ErrMalformed)
	}
	var p Params
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters", ErrMalformed)
	}
	if p.Time < 1 || p.Time > maxTime || threads < 1 || threads > 255 || p.Memory < 8*threads || p.Memory > maxMemory {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformed)
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSalt || len(salt) > maxSalt {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", ErrMalformed)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return Params{}, nil, nil, fmt.Errorf("%w: key", ErrMalformed)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
