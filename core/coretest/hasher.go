package coretest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/wagate/wagate/ports"
)

const fakeHashPrefix = "fakehash$"

// Hasher is a fast ports.PasswordHasher: an unsalted SHA-256, which is fine
// for tests and nothing else. It counts Verify calls so that tests can check
// that a login for an unknown email still spends a verification.
type Hasher struct {
	verifies atomic.Int64
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// Hash encodes the password's digest.
func (h *Hasher) Hash(password string) (string, error) {
	sum := sha256.Sum256([]byte(password))
	return fakeHashPrefix + hex.EncodeToString(sum[:]), nil
}

// Verify reports whether password matches hash; an error for a hash that
// this hasher did not make.
func (h *Hasher) Verify(hash, password string) (bool, error) {
	h.verifies.Add(1)
	if !strings.HasPrefix(hash, fakeHashPrefix) {
		return false, errors.New("verify password: malformed hash")
	}
	want, _ := h.Hash(password)
	return hash == want, nil
}

// Verifies returns how many times Verify ran.
func (h *Hasher) Verifies() int { return int(h.verifies.Load()) }
