// Package uuidv7 makes ids as UUID version 7 strings (RFC 9562): random
// enough to be unguessable and opaque, yet ordered by creation time, which
// keeps database indexes compact and lists stable.
package uuidv7

import (
	"github.com/google/uuid"

	"github.com/wagate/wagate/ports"
)

// Generator is a ports.IDGen.
type Generator struct{}

var _ ports.IDGen = Generator{}

// New returns a Generator.
func New() Generator { return Generator{} }

// NewID returns a new UUIDv7 in its canonical lower-case form.
func (Generator) NewID() string {
	// NewV7 fails only when crypto/rand does, which since Go 1.24 crashes
	// the program instead of returning an error.
	return uuid.Must(uuid.NewV7()).String()
}
