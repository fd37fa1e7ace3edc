package wasim

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"go.mau.fi/util/random"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"go.mau.fi/whatsmeow/util/keys"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/pbkdf2"
)

// pairCode is a companion waiting for its phone to enter a linking code
// (whatsmeow pair-code.go).
type pairCode struct {
	c           *conn
	ref         string
	wrapped     []byte        // companion ephemeral key, wrapped with the code
	primaryEph  *keys.KeyPair // set (under Server.mu) when the phone enters the code
	companionEp []byte        // likewise
	finished    chan []byte   // receives the adv secret from companion_finish
}

// linkCodeIterations is whatsmeow's PBKDF2 cost for the linking code.
const linkCodeIterations = 2 << 16

func (c *conn) handlePairCodeIQ(n *waBinary.Node) {
	reg, ok := n.GetOptionalChildByTag("link_code_companion_reg")
	if !ok || c.reg == nil {
		c.result(n)
		return
	}
	jid, _ := reg.Attrs["jid"].(types.JID)
	switch reg.AttrGetter().OptionalString("stage") {
	case "companion_hello":
		wrapped, _ := reg.GetChildByTag("link_code_pairing_wrapped_companion_ephemeral_pub").Content.([]byte)
		if len(wrapped) != 80 {
			c.iqError(n, 400, "bad-request")
			return
		}
		pc := &pairCode{c: c, ref: "sim-" + newID(), wrapped: wrapped, finished: make(chan []byte, 1)}
		c.s.mu.Lock()
		c.s.codes[jid.User] = pc
		c.s.mu.Unlock()
		c.result(n, waBinary.Node{Tag: "link_code_companion_reg", Content: []waBinary.Node{
			{Tag: "link_code_pairing_ref", Content: []byte(pc.ref)},
		}})
	case "companion_finish":
		c.s.mu.Lock()
		var eph *keys.KeyPair
		var compEph []byte
		pc := c.s.codes[jid.User]
		if pc != nil && pc.c == c {
			eph, compEph = pc.primaryEph, pc.companionEp
		}
		c.s.mu.Unlock()
		secret, err := c.s.finishPairCode(jid.User, eph, compEph, reg)
		if err != nil {
			c.s.log.Warn("wasim: pair code finish", "err", err)
			c.iqError(n, 400, "bad-request")
			return
		}
		c.result(n)
		select { // a repeated companion_finish must not block the connection
		case pc.finished <- secret:
		default:
		}
	default:
		c.result(n)
	}
}

// EnterPairCode plays the phone `phone` typing the code a client got from
// PairPhone(phone). It returns once the client confirmed the pairing.
func (s *Server) EnterPairCode(ctx context.Context, phone, code string) error {
	phone = digits(phone)
	s.mu.Lock()
	pc := s.codes[phone]
	s.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("pair code: no client is waiting to link %s", phone)
	}
	code = strings.ToUpper(strings.ReplaceAll(code, "-", ""))
	compEph := unwrapKey(code, pc.wrapped)
	owner, err := s.Contact(phone).signalDevice()
	if err != nil {
		return fmt.Errorf("pair code: %w", err)
	}
	primaryEph := keys.NewKeyPair()
	s.mu.Lock() // the connection's goroutine reads these in companion_finish
	pc.primaryEph, pc.companionEp = primaryEph, compEph
	s.mu.Unlock()
	err = pc.c.send(waBinary.Node{Tag: "notification", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "link_code_companion_reg", "id": newID(),
	}, Content: []waBinary.Node{{Tag: "link_code_companion_reg", Content: []waBinary.Node{
		{Tag: "link_code_pairing_ref", Content: []byte(pc.ref)},
		{Tag: "link_code_pairing_wrapped_primary_ephemeral_pub", Content: wrapKey(code, primaryEph.Pub[:])},
		{Tag: "primary_identity_pub", Content: owner.IdentityKey.Pub[:]},
	}}}})
	if err != nil {
		return fmt.Errorf("pair code: %w", err)
	}
	select {
	case secret := <-pc.finished:
		s.mu.Lock()
		delete(s.codes, phone)
		s.mu.Unlock()
		return s.completePairing(ctx, pc.c, phone, secret)
	case <-ctx.Done():
		return fmt.Errorf("pair code: %w", ctx.Err())
	case <-pc.c.ctx.Done():
		return errors.New("pair code: client disconnected")
	}
}

// finish opens the companion's key bundle and derives the adv secret the
// same way the companion does.
func (s *Server) finishPairCode(phone string, primaryEph *keys.KeyPair, companionEph []byte, reg waBinary.Node) ([]byte, error) {
	if primaryEph == nil {
		return nil, errors.New("no code entered")
	}
	wrapped, _ := reg.GetChildByTag("link_code_pairing_wrapped_key_bundle").Content.([]byte)
	if len(wrapped) < 32+12+96 {
		return nil, errors.New("short key bundle")
	}
	ephShared, err := curve25519.X25519(primaryEph.Priv[:], companionEph)
	if err != nil {
		return nil, err
	}
	key := hkdfutil.SHA256(ephShared, wrapped[:32], []byte("link_code_pairing_key_bundle_encryption_key"), 32)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	bundle, err := gcm.Open(nil, wrapped[32:44], wrapped[44:], nil)
	if err != nil || len(bundle) != 96 {
		return nil, fmt.Errorf("open key bundle: %v", err)
	}
	owner, err := s.Contact(phone).signalDevice()
	if err != nil {
		return nil, err
	}
	idShared, err := curve25519.X25519(owner.IdentityKey.Priv[:], bundle[:32])
	if err != nil {
		return nil, err
	}
	input := append(append(append([]byte{}, ephShared...), idShared...), bundle[64:96]...)
	return hkdfutil.SHA256(input, nil, []byte("adv_secret"), 32), nil
}

// wrapKey and unwrapKey are the linking-code key wrap: salt ‖ iv ‖
// AES-CTR(PBKDF2(code, salt), iv, key).
func wrapKey(code string, pub []byte) []byte {
	salt, iv := random.Bytes(32), random.Bytes(16)
	out := append(append(append([]byte{}, salt...), iv...), make([]byte, 32)...)
	ctr(code, salt, iv).XORKeyStream(out[48:], pub)
	return out
}

func unwrapKey(code string, wrapped []byte) []byte {
	out := make([]byte, 32)
	ctr(code, wrapped[:32], wrapped[32:48]).XORKeyStream(out, wrapped[48:80])
	return out
}

func ctr(code string, salt, iv []byte) cipher.Stream {
	key := pbkdf2.Key([]byte(code), salt, linkCodeIterations, 32, sha256.New)
	block, _ := aes.NewCipher(key) // a 32-byte key never fails
	return cipher.NewCTR(block, iv)
}
