package wasim

import (
	"encoding/binary"
	"strconv"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// handleIQ answers every request: whatsmeow blocks up to 75 s on an iq
// nobody answers, so unknown namespaces get an empty result.
func (c *conn) handleIQ(n *waBinary.Node) {
	ag := n.AttrGetter()
	switch typ := ag.OptionalString("type"); typ {
	case "result", "error":
		c.handlePairSign(n)
		return
	}
	switch ag.OptionalString("xmlns") {
	case "w:p":
		if c.dev != nil && c.dev.pingsStopped() {
			return
		}
		c.result(n)
	case "encrypt":
		c.handleEncrypt(n)
	case "usync":
		c.handleUsync(n)
	case "privacy":
		c.result(n, waBinary.Node{Tag: "privacy", Content: []waBinary.Node{
			{Tag: "category", Attrs: waBinary.Attrs{"name": "readreceipts", "value": "all"}},
			{Tag: "category", Attrs: waBinary.Attrs{"name": "last", "value": "all"}},
		}})
	case "w:m":
		c.result(n, c.s.mediaConn())
	case "md":
		c.handlePairCodeIQ(n)
	case "blocklist":
		c.handleBlocklist(n)
	case "status":
		c.handleStatusSet(n)
	case "w:profile:picture":
		// A group's picture is set by its admins (groups.go); an
		// account's is read by anyone (profiles.go).
		if target, _ := n.Attrs["target"].(types.JID); target.Server == types.GroupServer {
			c.handlePictureIQ(n)
		} else {
			c.handlePicture(n)
		}
	case "w:g2":
		c.handleGroupIQ(n)
	case "w:sync:app:state":
		c.handleAppState(n)
	default:
		c.result(n)
	}
}

// result answers an iq with type=result and the given children.
func (c *conn) result(req *waBinary.Node, content ...waBinary.Node) {
	res := waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"id": req.AttrGetter().OptionalString("id"), "type": "result", "from": types.ServerJID,
	}}
	if len(content) > 0 {
		res.Content = content
	}
	_ = c.send(res)
}

func (c *conn) iqError(req *waBinary.Node, code int, text string) {
	_ = c.send(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
		"id": req.AttrGetter().OptionalString("id"), "type": "error", "from": types.ServerJID,
	}, Content: []waBinary.Node{{Tag: "error", Attrs: waBinary.Attrs{"code": strconv.Itoa(code), "text": text}}}})
}

// handleEncrypt serves the Signal key server: prekey count, prekey upload
// and prekey bundle fetches.
func (c *conn) handleEncrypt(n *waBinary.Node) {
	if _, ok := n.GetOptionalChildByTag("count"); ok {
		c.result(n, waBinary.Node{Tag: "count", Attrs: waBinary.Attrs{"value": strconv.Itoa(c.prekeyCount())}})
		return
	}
	if list, ok := n.GetOptionalChildByTag("list"); ok {
		c.storePreKeys(list)
		c.result(n)
		return
	}
	if key, ok := n.GetOptionalChildByTag("key"); ok {
		c.result(n, waBinary.Node{Tag: "list", Content: c.s.bundles(key.GetChildren())})
		return
	}
	c.result(n)
}

// prekeyCount reports at least MinPreKeyCount×10 so a fresh client uploads
// a batch of 50 instead of the initial 812 (which costs ~0.5 s per login).
func (c *conn) prekeyCount() int {
	if c.dev == nil {
		return 50
	}
	c.dev.mu.Lock()
	defer c.dev.mu.Unlock()
	return max(len(c.dev.prekeys), 50)
}

func (c *conn) storePreKeys(list waBinary.Node) {
	if c.dev == nil {
		return
	}
	var keys []preKey
	for _, k := range list.GetChildren() {
		id, _ := k.GetChildByTag("id").Content.([]byte)
		val, _ := k.GetChildByTag("value").Content.([]byte)
		if len(id) == 3 && len(val) == 32 {
			keys = append(keys, preKey{id: binary.BigEndian.Uint32(append([]byte{0}, id...)), pub: [32]byte(val)})
		}
	}
	c.dev.mu.Lock()
	c.dev.prekeys = append(c.dev.prekeys, keys...)
	c.dev.mu.Unlock()
}

func (d *device) pingsStopped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.noPing
}
