// Package uuidv7 makes ids as UUID version 7 strings (RFC 9562): random
// enough to be unguessable and opaque, yet ordered by creation time, which
// keeps database indexes compact and lists stable.
package uuidv7

import (
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/wagate/wagate/ports"
)

// Generator is a ports.IDGen.
type Generator struct{}

var (
	_ ports.IDGen   = Generator{}
	_ ports.IDTimer = Generator{}
)

// New returns a Generator.
func New() Generator { return Generator{} }

// NewID returns a new UUIDv7 in its canonical lower-case form.
func (Generator) NewID() string {
	// NewV7 fails only when crypto/rand does, which since Go 1.24 crashes
	// the program instead of returning an error.
	return uuid.Must(uuid.NewV7()).String()
}

// TimeOf returns the millisecond a UUIDv7 was made, from its first 48
// bits; ok is false for anything else.
func (Generator) TimeOf(id string) (time.Time, bool) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 || len(id) != 36 {
		return time.Time{}, false
	}
	ms := binary.BigEndian.Uint64(u[:8]) >> 16
	return time.UnixMilli(int64(ms)).UTC(), true
}
