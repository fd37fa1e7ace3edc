package wasim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/util/random"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// receive queues a message stanza routed to the contact; run decrypts them
// one by one, in order, off the sender's connection goroutine.
func (c *Contact) receive(n waBinary.Node) {
	select {
	case c.work <- n:
	default:
		c.s.log.Warn("wasim: contact backlog full, message dropped", "phone", c.phone)
	}
}

func (c *Contact) run() {
	for {
		var n waBinary.Node
		select {
		case n = <-c.work:
		case <-c.s.done:
			return
		}
		if c.refused(n) {
			continue // asked for a retry instead (retry.go)
		}
		r, err := c.open(n)
		if err != nil {
			c.s.log.Warn("wasim: contact cannot read message", "phone", c.phone, "err", err)
			if from, _ := n.Attrs["from"].(types.JID); n.Tag == "message" && from.Server != types.GroupServer {
				// As a phone does: the sender sends it again from a new
				// session (whatsmeow can lose a session update on its side).
				c.askRetry(n, true)
			}
			continue
		}
		if r == nil {
			continue // a copy of the sender's own message (DeviceSentMessage)
		}
		if !c.seen.first(r.From, r.ID) {
			c.autoAck(r) // the sender may still wait for its receipts
			continue
		}
		c.log.apply(r)
		select {
		case c.inbox <- *r:
		default:
			c.s.log.Warn("wasim: contact inbox full, message dropped", "phone", c.phone)
		}
		c.autoAck(r)
	}
}

// dedupSize bounds the message keys a contact remembers: a resend comes
// soon after the first send, not thousands of messages later.
const dedupSize = 4096

// dedup remembers the latest (sender, message id) keys a contact received,
// to drop repeats like a phone's message store does, and counts them.
type dedup struct {
	mu    sync.Mutex
	keys  map[string]struct{}
	order []string // oldest first, for eviction
	dups  int
}

// first reports whether the message id of the sender (a device JID; any
// device of the same account counts as the same sender) is new, and
// remembers it. Messages without an id are always new.
func (d *dedup) first(from, id string) bool {
	if id == "" {
		return true
	}
	sender := from
	if jid, err := types.ParseJID(from); err == nil {
		sender = jid.ToNonAD().String()
	}
	key := sender + "/" + id
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.keys[key]; ok {
		d.dups++
		return false
	}
	if d.keys == nil {
		d.keys = map[string]struct{}{}
	}
	if len(d.order) >= dedupSize {
		delete(d.keys, d.order[0])
		d.order = d.order[1:]
	}
	d.keys[key] = struct{}{}
	d.order = append(d.order, key)
	return true
}

func (d *dedup) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dups
}

// autoAck acknowledges as a real phone would when Options.ReceiptDelay is
// set: delivered after the delay, read after twice the delay.
func (c *Contact) autoAck(r *Received) {
	delay := c.s.opt.ReceiptDelay
	if delay <= 0 {
		return
	}
	from := r.From
	time.AfterFunc(delay, func() { _ = c.sendReceipt(context.Background(), from, []string{r.ID}, false, r.LID) })
	time.AfterFunc(2*delay, func() { _ = c.sendReceipt(context.Background(), from, []string{r.ID}, true, r.LID) })
}

// open decrypts a message stanza like whatsmeow's decryptDM and turns it
// into a Received.
func (c *Contact) open(n waBinary.Node) (*Received, error) {
	from, _ := n.Attrs["from"].(types.JID)
	if from.Server == types.GroupServer {
		msg, sender, err := c.openGroup(n, from)
		if err != nil {
			return nil, err
		}
		r := &Received{ID: n.AttrGetter().OptionalString("id"), From: sender.String(), Chat: from.String(), Timestamp: time.Now()}
		c.s.fill(r, msg)
		c.rememberPoll(r.ID, sender, msg)
		c.s.fillActions(r, msg)
		return r, nil
	}
	// One Signal session per sending device whichever address the chat
	// used: whatsmeow keeps one (under the LID) for both forms too.
	byLID := from.Server == types.HiddenUserServer
	chat := from.ToNonAD() // as the phone shows it: by LID in a LID chat
	from = c.s.pnOf(from)
	enc, ok := n.GetOptionalChildByTag("enc")
	if !ok {
		return nil, errors.New("message without enc")
	}
	ct, _ := enc.Content.([]byte)
	typ := enc.AttrGetter().OptionalString("type")
	plaintext, err := c.decrypt(from, typ, ct)
	if err != nil {
		return nil, fmt.Errorf("decrypt from %s: %w", from, err)
	}
	var msg waE2E.Message
	if err := proto.Unmarshal(plaintext, &msg); err != nil {
		return nil, fmt.Errorf("unmarshal message: %w", err)
	}
	if msg.GetDeviceSentMessage() != nil {
		return nil, nil
	}
	r := &Received{ID: n.AttrGetter().OptionalString("id"), From: from.String(), Chat: chat.String(), LID: byLID,
		PreKey: typ == "pkmsg", Timestamp: time.Now()}
	c.s.fill(r, &msg)
	c.rememberPoll(r.ID, from, &msg)
	c.s.fillActions(r, &msg)
	return r, nil
}

func (c *Contact) decrypt(from types.JID, typ string, ct []byte) ([]byte, error) {
	dev, err := c.signalDevice()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := context.Background()
	addr := from.SignalAddress()
	ser := store.SignalProtobufSerializer
	cipher := session.NewCipher(session.NewBuilderFromSignal(dev, addr, ser), addr)
	var pt []byte
	switch typ {
	case "pkmsg":
		msg, perr := protocol.NewPreKeySignalMessageFromBytes(ct, ser.PreKeySignalMessage, ser.SignalMessage)
		if perr != nil {
			return nil, perr
		}
		pt, err = cipher.DecryptMessage(ctx, msg)
	case "msg":
		msg, perr := protocol.NewSignalMessageFromBytes(ct, ser.SignalMessage)
		if perr != nil {
			return nil, perr
		}
		pt, err = cipher.Decrypt(ctx, msg)
	default:
		return nil, fmt.Errorf("unsupported enc type %q", typ)
	}
	if err != nil {
		return nil, err
	}
	return unpad(pt)
}

// pad and unpad mirror whatsmeow's padMessage/unpadMessage (version 2).
func pad(b []byte) []byte {
	n := random.Bytes(1)[0] & 0xf
	if n == 0 {
		n = 0xf
	}
	return append(append([]byte{}, b...), bytes.Repeat([]byte{n}, int(n))...)
}

func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("empty plaintext")
	}
	n := int(b[len(b)-1])
	if n == 0 || n > len(b) || !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("bad padding")
	}
	return b[:len(b)-n], nil
}
