package wasim

import (
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Retry receipts (WHATSAPP-SIM-FEATURES §8): a phone that cannot decrypt
// a message asks its sender for it again with <receipt type=retry>, from
// the address the message came to (its LID in a LID-addressed chat); the
// sender's client resends it from its recent messages as a single
// <message to=DEVICE> without a <participants> list, which the server
// routes to that one device.

// retryState is how many of the next messages a contact refuses, and how
// many retries it asked for.
type retryState struct {
	mu     sync.Mutex
	refuse int
	asked  int
}

// RefuseNext makes the contact fail to decrypt the next n messages it
// receives: it drops each and asks its sender for a retry, as a phone
// does when a session is out of step.
func (c *Contact) RefuseNext(n int) {
	c.retry.mu.Lock()
	c.retry.refuse = n
	c.retry.mu.Unlock()
}

// RetriesAsked is how many retry receipts the contact sent for messages
// it refused (RefuseNext).
func (c *Contact) RetriesAsked() int {
	c.retry.mu.Lock()
	defer c.retry.mu.Unlock()
	return c.retry.asked
}

// refused reports whether the contact refuses n (a message stanza) and,
// if so, has asked its sender for a retry instead of decrypting it.
func (c *Contact) refused(n waBinary.Node) bool {
	if n.Tag != "message" {
		return false
	}
	c.retry.mu.Lock()
	if c.retry.refuse <= 0 {
		c.retry.mu.Unlock()
		return false
	}
	c.retry.refuse--
	c.retry.asked++
	c.retry.mu.Unlock()
	c.askRetry(n, false)
	return true
}

// askRetry sends <receipt type=retry> for message n to the device that
// sent it, from the contact's address in the chat's form (LID or phone).
// withKeys adds the contact's key bundle, as whatsmeow does from the
// second retry on: the sender then starts a new session from it rather
// than encrypting again in the session that failed.
func (c *Contact) askRetry(n waBinary.Node, withKeys bool) {
	sender, ok := n.Attrs["from"].(types.JID)
	if !ok {
		return
	}
	id := n.AttrGetter().OptionalString("id")
	self := c.jid
	if sender.Server == types.HiddenUserServer {
		self = c.LID()
	}
	reg := make([]byte, 4)
	if dev, err := c.signalDevice(); err == nil {
		binary.BigEndian.PutUint32(reg, dev.RegistrationID)
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	count := "1"
	content := []waBinary.Node{{Tag: "registration", Content: reg}}
	if withKeys {
		b, err := c.bundle()
		if err != nil {
			return
		}
		count = "2"
		// The children of a prekey answer, but for the registration,
		// which the receipt carries on its own.
		keys := bundleNode(c.jid, b)
		content = append(content, waBinary.Node{Tag: "keys", Content: keys.GetChildren()[1:]})
	}
	receipt := waBinary.Node{Tag: "receipt", Attrs: waBinary.Attrs{"id": id, "from": self, "type": "retry", "t": now},
		Content: append([]waBinary.Node{
			{Tag: "retry", Attrs: waBinary.Attrs{"count": count, "id": id, "t": n.AttrGetter().OptionalString("t"), "v": "1"}},
		}, content...)}
	to := c.s.pnOf(sender) // takes s.mu itself
	c.s.mu.Lock()
	d := c.s.devices[to]
	c.s.mu.Unlock()
	if d != nil {
		d.deliver(receipt)
	}
}

// resend routes a client's retry resend: a message to one device (in
// `to`) with its <enc> directly inside, addressed from the sender in the
// form of the device it goes to.
func (c *conn) resend(n *waBinary.Node, now string) {
	target, ok := n.Attrs["to"].(types.JID)
	if !ok || n.AttrGetter().OptionalString("category") == "peer" || // a peer message to the account's own phone
		target.Server != types.DefaultUserServer && target.Server != types.HiddenUserServer {
		return
	}
	var content []waBinary.Node
	for _, ch := range n.GetChildren() {
		if ch.Tag == "enc" || ch.Tag == "device-identity" {
			content = append(content, ch)
		}
	}
	if len(content) == 0 {
		return
	}
	ag := n.AttrGetter()
	out := waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{"id": ag.OptionalString("id"), "t": now, "type": ag.OptionalString("type")}, Content: content}
	if edit := ag.OptionalString("edit"); edit != "" {
		out.Attrs["edit"] = edit
	}
	c.s.addressAs(out.Attrs, c.dev.jid, target.Server == types.HiddenUserServer)
	c.s.route(target, out)
}
