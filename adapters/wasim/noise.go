package wasim

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/hkdf"
)

// noiseState is the server half of Noise_XX_25519_AESGCM_SHA256 as whatsmeow's
// socket.NoiseHandshake runs it. It is written out here because the final
// key split of the library type is unexported.
type noiseState struct {
	hash    []byte
	salt    []byte
	key     cipher.AEAD
	counter uint32
}

func newNoiseState(header []byte) (*noiseState, error) {
	ns := &noiseState{hash: []byte(socket.NoiseStartPattern)} // exactly 32 bytes: used as is
	ns.salt = ns.hash
	key, err := gcmutil.Prepare(ns.hash)
	if err != nil {
		return nil, fmt.Errorf("noise init: %w", err)
	}
	ns.key = key
	ns.authenticate(header)
	return ns, nil
}

func (ns *noiseState) authenticate(data []byte) {
	h := sha256.Sum256(append(append([]byte{}, ns.hash...), data...))
	ns.hash = h[:]
}

func (ns *noiseState) encrypt(plaintext []byte) []byte {
	ct := ns.key.Seal(nil, iv(ns.counter), plaintext, ns.hash)
	ns.counter++
	ns.authenticate(ct)
	return ct
}

func (ns *noiseState) decrypt(ct []byte) ([]byte, error) {
	pt, err := ns.key.Open(nil, iv(ns.counter), ct, ns.hash)
	ns.counter++
	if err != nil {
		return nil, fmt.Errorf("noise decrypt: %w", err)
	}
	ns.authenticate(ct)
	return pt, nil
}

func (ns *noiseState) mixDH(priv, pub [32]byte) error {
	secret, err := curve25519.X25519(priv[:], pub[:])
	if err != nil {
		return fmt.Errorf("noise dh: %w", err)
	}
	write, read, err := expand(ns.salt, secret)
	if err != nil {
		return err
	}
	ns.counter = 0
	ns.salt = write
	ns.key, err = gcmutil.Prepare(read)
	return err
}

// split returns the transport ciphers: the client writes with the first key
// and reads with the second, so the server does the opposite.
func (ns *noiseState) split() (read, write cipher.AEAD, err error) {
	k1, k2, err := expand(ns.salt, nil)
	if err != nil {
		return nil, nil, err
	}
	if read, err = gcmutil.Prepare(k1); err != nil {
		return nil, nil, err
	}
	write, err = gcmutil.Prepare(k2)
	return read, write, err
}

func expand(salt, data []byte) (a, b []byte, err error) {
	h := hkdf.New(sha256.New, data, salt, nil)
	a, b = make([]byte, 32), make([]byte, 32)
	if _, err = io.ReadFull(h, a); err == nil {
		_, err = io.ReadFull(h, b)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("noise hkdf: %w", err)
	}
	return a, b, nil
}

func iv(n uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b[8:], n)
	return b
}
