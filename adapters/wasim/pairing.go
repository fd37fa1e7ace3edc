package wasim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// registration is what a new device announced in its handshake payload.
type registration struct {
	regID    uint32
	identity [32]byte
	skey     signedPreKey
}

// pairing is an in-flight pair-success waiting for the client's
// pair-device-sign answer.
type pairing struct {
	iqID string
	dev  *device
	acct *account
	done chan error
}

// qrRefs is how many QR references a registering client gets; whatsmeow
// rotates through them on its own timer.
const qrRefs = 6

func (c *conn) register(p *waWa6.ClientPayload_DevicePairingRegistrationData) error {
	if p == nil || len(p.GetEIdent()) != 32 || len(p.GetESkeyVal()) != 32 || len(p.GetESkeySig()) != 64 ||
		len(p.GetERegid()) != 4 || len(p.GetESkeyID()) != 3 {
		return errors.New("register: incomplete device pairing data")
	}
	reg := &registration{regID: binary.BigEndian.Uint32(p.GetERegid()), identity: [32]byte(p.GetEIdent())}
	reg.skey.id = binary.BigEndian.Uint32(append([]byte{0}, p.GetESkeyID()...))
	reg.skey.pub, reg.skey.sig = [32]byte(p.GetESkeyVal()), [64]byte(p.GetESkeySig())
	c.reg = reg
	c.s.mu.Lock()
	c.s.pending[c.noise] = c
	c.s.mu.Unlock()
	refs := make([]waBinary.Node, qrRefs)
	for i := range refs {
		refs[i] = waBinary.Node{Tag: "ref", Content: []byte(fmt.Sprintf("2@sim%016x", rand.Uint64()))}
	}
	// from must be the ServerJID value: pair.go handleIQ ignores anything else.
	return c.send(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "set", "id": newID(), "xmlns": "md",
	}, Content: []waBinary.Node{{Tag: "pair-device", Content: refs}}})
}

// ScanQR plays the phone `phone` scanning a QR code shown by a client
// (one of events.QR's Codes). It returns once the client confirmed the
// pairing; the client then reconnects and logs in as phone:N@s.whatsapp.net.
func (s *Server) ScanQR(ctx context.Context, qr, phone string) error {
	parts := strings.Split(qr, ",")
	if len(parts) < 4 {
		return fmt.Errorf("scan qr: want 4 comma-separated fields, got %d", len(parts))
	}
	noise, err1 := base64.StdEncoding.DecodeString(parts[1])
	adv, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err := errors.Join(err1, err2); err != nil || len(noise) != 32 {
		return fmt.Errorf("scan qr: bad key fields: %v", err)
	}
	s.mu.Lock()
	c := s.pending[[32]byte(noise)]
	s.mu.Unlock()
	if c == nil {
		return errors.New("scan qr: no client is showing this code")
	}
	return s.completePairing(ctx, c, digits(phone), adv)
}

// completePairing links the registering connection c to the account of
// phone: it sends pair-success with an ADV identity signed by the phone and
// waits for the client's pair-device-sign.
func (s *Server) completePairing(ctx context.Context, c *conn, phone string, advSecret []byte) error {
	if !exists(phone) {
		return fmt.Errorf("pair: phone %s is not on the network", phone)
	}
	owner, err := s.Contact(phone).signalDevice()
	if err != nil {
		return fmt.Errorf("pair: %w", err)
	}
	s.mu.Lock()
	if s.pending[c.noise] != c {
		s.mu.Unlock()
		return errors.New("pair: client is no longer waiting")
	}
	delete(s.pending, c.noise)
	a := s.accountLocked(phone)
	n := a.next
	a.next++
	s.mu.Unlock()
	d := &device{
		jid: types.JID{User: phone, Device: n, Server: types.DefaultUserServer}, lid: a.lid,
		noise: c.noise, regID: c.reg.regID, identity: c.reg.identity, skey: c.reg.skey,
	}
	d.lid.Device = n
	ident, err := signedIdentity(owner.IdentityKey.Priv, owner.IdentityKey.Pub, d, advSecret)
	if err != nil {
		return err
	}
	p := &pairing{iqID: newID(), dev: d, acct: a, done: make(chan error, 1)}
	c.pair.Store(p)
	err = c.send(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "set", "id": p.iqID, "xmlns": "md",
	}, Content: []waBinary.Node{{Tag: "pair-success", Content: []waBinary.Node{
		{Tag: "device-identity", Content: ident},
		{Tag: "platform", Attrs: waBinary.Attrs{"name": "android"}},
		{Tag: "device", Attrs: waBinary.Attrs{"jid": d.jid, "lid": d.lid}},
		{Tag: "biz"},
	}}}})
	if err != nil {
		return fmt.Errorf("pair: %w", err)
	}
	return awaitPairSign(ctx, c, p)
}

// awaitPairSign waits for the client's answer to pair-success. An answer
// that came wins over a closed connection: handlePairSign reports done and
// then sends the 515 that makes the client drop the connection, so when
// this goroutine runs late both are ready and select would pick either.
func awaitPairSign(ctx context.Context, c *conn, p *pairing) error {
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
	case <-c.ctx.Done():
	}
	select {
	case err := <-p.done:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pair: %w", err)
	}
	return errors.New("pair: client disconnected")
}

// signedIdentity builds the ADVSignedDeviceIdentityHMAC the phone sends in
// pair-success (verified by pair.go handlePair / verifyAccountSignature).
func signedIdentity(accountPriv, accountPub *[32]byte, d *device, advSecret []byte) ([]byte, error) {
	e2ee := waAdv.ADVEncryptionType_E2EE
	details, err := proto.Marshal(&waAdv.ADVDeviceIdentity{
		RawID: proto.Uint32(rand.Uint32()), Timestamp: proto.Uint64(uint64(time.Now().Unix())),
		KeyIndex: proto.Uint32(uint32(d.jid.Device)), AccountType: &e2ee, DeviceType: &e2ee,
	})
	if err != nil {
		return nil, fmt.Errorf("pair: marshal identity: %w", err)
	}
	msg := append(append(append([]byte{}, whatsmeow.AdvAccountSignaturePrefix...), details...), d.identity[:]...)
	sig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*accountPriv), msg)
	signed, err := proto.Marshal(&waAdv.ADVSignedDeviceIdentity{
		Details: details, AccountSignatureKey: accountPub[:], AccountSignature: sig[:],
	})
	if err != nil {
		return nil, fmt.Errorf("pair: marshal signed identity: %w", err)
	}
	mac := hmac.New(sha256.New, advSecret)
	mac.Write(signed)
	return proto.Marshal(&waAdv.ADVSignedDeviceIdentityHMAC{Details: signed, HMAC: mac.Sum(nil), AccountType: &e2ee})
}

// handlePairSign finishes a pairing when the client answers pair-success:
// the device joins the network and the client is told to reconnect (515).
func (c *conn) handlePairSign(n *waBinary.Node) bool {
	p := c.pair.Load()
	if p == nil || n.AttrGetter().OptionalString("id") != p.iqID {
		return false
	}
	c.pair.Store(nil)
	if n.AttrGetter().OptionalString("type") != "result" {
		p.done <- fmt.Errorf("pair: client refused: %s", n.XMLString())
		return true
	}
	c.s.mu.Lock()
	p.acct.devices[p.dev.jid.Device] = p.dev
	c.s.devices[p.dev.jid] = p.dev
	c.s.mu.Unlock()
	p.done <- nil
	c.streamError(waBinary.Attrs{"code": "515"})
	return true
}

// newID returns a stanza id in WhatsApp's style.
func newID() string { return fmt.Sprintf("%016X", rand.Uint64()) }
