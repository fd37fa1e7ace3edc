package wasim

import (
	waBinary "go.mau.fi/whatsmeow/binary"
)

// maxUnacked bounds the messages the network keeps for one device until it
// acknowledges them. Real WhatsApp keeps them for weeks; a test network
// needs only enough for a crash test's burst, and a device that never acks
// must not grow the simulator without end: past the bound the oldest is
// dropped.
const maxUnacked = 10_000

// unacked are the message stanzas written to a device that it has not
// acknowledged yet, oldest first. Like WhatsApp's servers, the network
// keeps a message until the device's ack (or receipt) for it, and sends
// whatever is left again at the device's next login: a client killed after
// reading a message but before handling it gets it once more. Guarded by
// the device's mu.
type unacked struct {
	order []string
	nodes map[string]waBinary.Node
}

// add remembers a message written to the device; other stanzas (receipts,
// notifications) are not kept.
func (u *unacked) add(n waBinary.Node) {
	id := n.AttrGetter().OptionalString("id")
	if n.Tag != "message" || id == "" {
		return
	}
	if u.nodes == nil {
		u.nodes = map[string]waBinary.Node{}
	}
	if _, ok := u.nodes[id]; !ok {
		u.order = append(u.order, id)
	}
	u.nodes[id] = n
	for len(u.nodes) > maxUnacked {
		u.drop(u.order[0])
	}
}

// drop forgets the message id; it is not sent again.
func (u *unacked) drop(id string) {
	if _, ok := u.nodes[id]; !ok {
		return
	}
	delete(u.nodes, id)
	for i, o := range u.order {
		if o == id {
			u.order = append(u.order[:i], u.order[i+1:]...)
			break
		}
	}
}

// take returns the unacknowledged messages, oldest first, and forgets
// them: a login writes them again (and add keeps them again until acked).
func (u *unacked) take() []waBinary.Node {
	out := make([]waBinary.Node, 0, len(u.order))
	for _, id := range u.order {
		out = append(out, u.nodes[id])
	}
	u.order, u.nodes = nil, nil
	return out
}

// acked clears the messages a device acknowledged: an <ack class=message>
// (whatsmeow sends it once its handlers returned, SynchronousAck) or a
// receipt naming them.
func (d *device) acked(ids ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		d.unacked.drop(id)
	}
}

// handleAck reads a client's ack of a message it received.
func (c *conn) handleAck(n *waBinary.Node) {
	if c.dev == nil || n.AttrGetter().OptionalString("class") != "message" {
		return
	}
	if id := n.AttrGetter().OptionalString("id"); id != "" {
		c.dev.acked(id)
	}
}

// receiptIDs are the message ids a receipt stanza names: its id attribute
// and those of its <list><item/></list>.
func receiptIDs(n *waBinary.Node) []string {
	var ids []string
	if id := n.AttrGetter().OptionalString("id"); id != "" {
		ids = append(ids, id)
	}
	for _, child := range n.GetChildrenByTag("list") {
		for _, item := range child.GetChildrenByTag("item") {
			if id := item.AttrGetter().OptionalString("id"); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
