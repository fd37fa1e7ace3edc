package wasim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/util/optional"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// inboxSize bounds what a contact keeps unread; beyond it new messages are
// dropped (and logged) rather than blocking the network.
const inboxSize = 1024

// Contact is a scripted account's primary phone (device 0): a separate
// Signal identity that decrypts what it receives and encrypts what it sends,
// so tests can assert message content end to end.
type Contact struct {
	s     *Server
	phone string
	jid   types.JID

	initOnce sync.Once
	dev      *store.Device
	initErr  error

	mu    sync.Mutex // serialises Signal operations on dev
	inbox chan Received
	work  chan waBinary.Node
	seen  dedup
	log   phoneLog // what the phone received, for the sandbox's phone view
	polls pollBook // the polls it received, to vote on
	retry retryState
	sent  sentLog // recent direct messages, for retry receipts (retry_answer.go)
}

// Received is a message as a contact decrypted it.
type Received struct {
	ID       string
	From     string // sender device JID, e.g. 15550100:1@s.whatsapp.net
	Chat     string // the chat: the sender's account for a direct message
	Type     string // wagate's name of the kind: text, image, location…
	Text     string
	Caption  string
	Media    []byte // downloaded and decrypted
	MimeType string
	FileName string
	PTT      bool
	Location *Location
	Contacts []ports.PhoneContact
	Poll     *ports.Poll
	GIF      bool   // video: plays looped
	Animated bool   // sticker
	Seconds  uint32 // audio: the length the sender gave
	Waveform []byte // audio: the levels the sender drew
	// Width, Height and Thumbnail (a JPEG) are an image's or a video's as
	// the sender gave them; Seconds is also a video's length.
	Width, Height uint32
	Thumbnail     []byte
	QuotedID      string
	LID           bool // sent to the contact's LID rather than its phone number
	// PreKey: it came as a PreKeySignalMessage, which a sender uses until
	// its session has seen an answer (or after it lost its session).
	PreKey    bool
	Timestamp time.Time
	// Mentions, IsForwarded and PreviewTitle come from the message's
	// context; Action is set on a reaction, edit or revoke (actions.go).
	Mentions     []string
	IsForwarded  bool
	PreviewTitle string
	Action       *Action
}

// Location is a received location pin.
type Location struct {
	Latitude, Longitude float64
	Name, Address       string
}

// Contact returns the scripted contact of a phone number (digits, "+…" or a
// JID), creating it on first use.
func (s *Server) Contact(phone string) *Contact {
	phone = digits(phone)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountLocked(phone)
	if a.contact == nil {
		a.contact = &Contact{s: s, phone: phone, jid: types.NewJID(phone, types.DefaultUserServer),
			inbox: make(chan Received, inboxSize), work: make(chan waBinary.Node, inboxSize)}
		go a.contact.run()
	}
	return a.contact
}

// Phone is the contact's number.
func (c *Contact) Phone() string { return c.phone }

// Duplicates counts the messages the contact received again and dropped,
// as a phone does: a second message with the id of one already received
// from the same sender (a resend after a crash or a lost answer).
func (c *Contact) Duplicates() int { return c.seen.count() }

// Messages delivers what the contact received, decrypted, in arrival order.
func (c *Contact) Messages() <-chan Received { return c.inbox }

// signalDevice returns the contact's Signal store, creating its identity on
// first use. The same identity key signs the devices linked to this phone.
func (c *Contact) signalDevice() (*store.Device, error) {
	c.initOnce.Do(func() {
		c.dev, c.initErr = c.s.contacts.newDevice(context.Background(), c.phone)
	})
	return c.dev, c.initErr
}

// bundle is the contact's public key bundle; only the signed prekey is
// offered, which libsignal accepts, so no one-time prekeys are tracked.
func (c *Contact) bundle() (keyBundle, error) {
	dev, err := c.signalDevice()
	if err != nil {
		return keyBundle{}, err
	}
	b := keyBundle{regID: dev.RegistrationID, identity: *dev.IdentityKey.Pub}
	b.skey.id, b.skey.pub, b.skey.sig = dev.SignedPreKey.KeyID, *dev.SignedPreKey.Pub, *dev.SignedPreKey.Signature
	return b, nil
}

// bundle returns the key bundle of any device: device 0 is the contact,
// others are linked devices, whose one-time prekeys are consumed.
func (s *Server) bundle(jid types.JID) (keyBundle, error) {
	jid = s.pnOf(jid)
	if !exists(jid.User) {
		return keyBundle{}, errors.New("no such user")
	}
	if jid.Device == 0 {
		return s.Contact(jid.User).bundle()
	}
	s.mu.Lock()
	d := s.devices[jid]
	s.mu.Unlock()
	if d == nil {
		return keyBundle{}, errors.New("no such device")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b := keyBundle{regID: d.regID, identity: d.identity, skey: d.skey}
	if len(d.prekeys) > 0 {
		pk := d.prekeys[0]
		d.prekeys = d.prekeys[1:]
		b.prekey = &pk
	}
	return b, nil
}

func (b keyBundle) libsignal(device uint16) *prekey.Bundle {
	pkID, pkPub := optional.NewEmptyUint32(), ecc.ECPublicKeyable(nil)
	if b.prekey != nil {
		pkID, pkPub = optional.NewOptionalUint32(b.prekey.id), ecc.NewDjbECPublicKey(b.prekey.pub)
	}
	return prekey.NewBundle(b.regID, uint32(device), pkID, b.skey.id, pkPub,
		ecc.NewDjbECPublicKey(b.skey.pub), b.skey.sig, identity.NewKey(ecc.NewDjbECPublicKey(b.identity)))
}

// encryptFor encrypts a padded plaintext for one linked device, starting a
// session from its bundle when there is none yet.
func (c *Contact) encryptFor(ctx context.Context, d *device, plaintext []byte) (ct []byte, typ string, err error) {
	dev, err := c.signalDevice()
	if err != nil {
		return nil, "", err
	}
	addr := d.jid.SignalAddress()
	builder := session.NewBuilderFromSignal(dev, addr, store.SignalProtobufSerializer)
	has, err := dev.ContainsSession(ctx, addr)
	if err != nil {
		return nil, "", err
	}
	if !has {
		b, err := c.s.bundle(d.jid)
		if err != nil {
			return nil, "", fmt.Errorf("bundle of %s: %w", d.jid, err)
		}
		if err := builder.ProcessBundle(ctx, b.libsignal(d.jid.Device)); err != nil {
			return nil, "", fmt.Errorf("process bundle of %s: %w", d.jid, err)
		}
	}
	msg, err := session.NewCipher(builder, addr).Encrypt(ctx, pad(plaintext))
	if err != nil {
		return nil, "", fmt.Errorf("encrypt for %s: %w", d.jid, err)
	}
	typ = "msg"
	if msg.Type() == protocol.PREKEY_TYPE {
		typ = "pkmsg"
	}
	return msg.Serialize(), typ, nil
}

// SendText makes the contact send a text message to every device of `to`
// (a phone number or JID) and returns nil once it is delivered or queued.
func (c *Contact) SendText(ctx context.Context, to, text string) error {
	_, err := c.Send(ctx, to, &waE2E.Message{Conversation: proto.String(text)})
	return err
}

// Send encrypts any message for every linked device of `to` and returns
// its id.
func (c *Contact) Send(ctx context.Context, to string, msg *waE2E.Message) (string, error) {
	return c.send(ctx, to, msg, false)
}

// send is Send from the contact's phone number, or from its LID when
// byLID (a LID-addressed chat).
func (c *Contact) send(ctx context.Context, to string, msg *waE2E.Message, byLID bool) (string, error) {
	phone := c.s.phoneOfAddress(to)
	devs := c.s.linkedDevices(phone)
	if len(devs) == 0 {
		return "", fmt.Errorf("send to %s: no linked device", phone)
	}
	if c.s.profiles.isBlocked(phone, c.phone) {
		// WhatsApp takes the message and never delivers it: the sender
		// sees one tick.
		return newID(), nil
	}
	plaintext, err := proto.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("send: marshal: %w", err)
	}
	typ, edit := stanzaKind(msg)
	id := newID()
	c.sent.add(id, sentMsg{plaintext: plaintext, typ: typ, edit: edit, byLID: byLID})
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range devs {
		ct, encType, err := c.encryptFor(ctx, d, plaintext)
		if err != nil {
			return "", fmt.Errorf("send to %s: %w", phone, err)
		}
		attrs := waBinary.Attrs{"id": id, "t": strconv.FormatInt(time.Now().Unix(), 10), "type": typ, "notify": c.pushName()}
		c.s.addressAs(attrs, c.jid, byLID)
		if edit != "" {
			attrs["edit"] = edit
		}
		d.deliver(waBinary.Node{Tag: "message", Attrs: attrs,
			Content: []waBinary.Node{{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": encType}, Content: ct}}})
	}
	return id, nil
}

func (c *Contact) pushName() string {
	if c.s.opt.PushName != "" {
		return c.s.opt.PushName
	}
	return "Sim " + c.phone
}

// SendReceipt acknowledges messages from `from` (phone or JID) to all its
// linked devices: delivered, or read when read is true.
func (c *Contact) SendReceipt(ctx context.Context, from string, ids []string, read bool) error {
	return c.sendReceipt(ctx, from, ids, read, false)
}

// sendReceipt is SendReceipt from the contact's LID when byLID: the
// receipt of a message addressed to the LID.
func (c *Contact) sendReceipt(_ context.Context, from string, ids []string, read, byLID bool) error {
	if len(ids) == 0 {
		return errors.New("send receipt: no message ids")
	}
	sender := c.jid
	if byLID {
		sender = c.LID()
	}
	attrs := waBinary.Attrs{"from": sender, "id": ids[0], "t": strconv.FormatInt(time.Now().Unix(), 10)}
	if read {
		attrs["type"] = "read"
	}
	n := waBinary.Node{Tag: "receipt", Attrs: attrs}
	if len(ids) > 1 {
		items := make([]waBinary.Node, 0, len(ids)-1)
		for _, id := range ids[1:] {
			items = append(items, waBinary.Node{Tag: "item", Attrs: waBinary.Attrs{"id": id}})
		}
		n.Content = []waBinary.Node{{Tag: "list", Content: items}}
	}
	devs := c.s.linkedDevices(c.s.phoneOfAddress(from))
	if len(devs) == 0 {
		return fmt.Errorf("send receipt to %s: no linked device", from)
	}
	for _, d := range devs {
		d.deliver(n)
	}
	return nil
}
