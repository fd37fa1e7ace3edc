package wasim

import (
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// handleMessage fans an outgoing message out: each <to jid> of the
// participants list goes to that device (a linked client, or the contact
// for device 0), and the sender gets the <ack> SendMessage blocks on.
func (c *conn) handleMessage(n *waBinary.Node) {
	ag := n.AttrGetter()
	id := ag.OptionalString("id")
	now := strconv.FormatInt(time.Now().Unix(), 10)
	if c.dev == nil {
		return
	}
	chat, _ := n.Attrs["to"].(types.JID)
	if chat.Server == types.GroupServer {
		c.handleGroupMessage(n, chat, id, now)
		return
	}
	identity, hasIdentity := n.GetOptionalChildByTag("device-identity")
	if parts, ok := n.GetOptionalChildByTag("participants"); ok {
		for _, to := range parts.GetChildren() {
			target, ok := to.Attrs["jid"].(types.JID)
			if to.Tag != "to" || !ok {
				continue
			}
			content := to.GetChildren()
			if hasIdentity {
				content = append(content, identity)
			}
			out := waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{
				"id": id, "t": now, "type": ag.OptionalString("type"),
			}, Content: content}
			c.s.addressAs(out.Attrs, c.dev.jid, chat.Server == types.HiddenUserServer)
			if c.s.pnOf(target).User == c.dev.jid.User {
				// A copy for the sender's other devices names the real chat.
				out.Attrs["recipient"] = chat
			}
			c.s.route(target, out)
		}
	} else {
		c.resend(n, now) // a retry resend (retry.go)
	}
	ack := waBinary.Node{Tag: "ack", Attrs: waBinary.Attrs{"class": "message", "id": id, "t": now}}
	if !chat.IsEmpty() {
		ack.Attrs["from"] = chat
	}
	_ = c.send(ack)
}

// route delivers a stanza to one device: device 0 is the scripted contact,
// other devices are linked clients (queued while offline).
func (s *Server) route(target types.JID, n waBinary.Node) {
	target = s.pnOf(target)
	if !exists(target.User) {
		return
	}
	if target.Device == 0 {
		s.Contact(target.User).receive(n)
		return
	}
	s.mu.Lock()
	d := s.devices[target]
	s.mu.Unlock()
	if d != nil {
		d.deliver(n)
	}
}

// handleReceipt forwards a delivery/read receipt to every linked device of
// the user it is addressed to; contacts ignore receipts but for retry
// receipts, which they answer (retry_answer.go).
func (c *conn) handleReceipt(n *waBinary.Node) {
	if c.dev == nil {
		return
	}
	ids := receiptIDs(n)
	c.s.receipts.mark(ids)
	c.dev.acked(ids...)
	to, ok := n.Attrs["to"].(types.JID)
	if !ok {
		return
	}
	from := c.dev.jid.ToNonAD()
	if to.Server == types.HiddenUserServer {
		// A receipt in a LID-addressed chat comes from the sender's LID.
		from = c.s.lidOf(from)
	}
	to = c.s.pnOf(to)
	if n.AttrGetter().OptionalString("type") == "retry" {
		c.retryAsked(to, ids) // a contact's phone answers it
	}
	attrs := waBinary.Attrs{"from": from, "t": strconv.FormatInt(time.Now().Unix(), 10)}
	for _, k := range []string{"id", "type"} {
		if v := n.AttrGetter().OptionalString(k); v != "" {
			attrs[k] = v
		}
	}
	if r, ok := n.Attrs["recipient"].(types.JID); ok && to.User == c.dev.jid.User {
		attrs["recipient"] = r
	}
	out := waBinary.Node{Tag: "receipt", Attrs: attrs, Content: n.Content}
	for _, d := range c.s.linkedDevices(to.User) {
		if d != c.dev {
			d.deliver(out)
		}
	}
}
