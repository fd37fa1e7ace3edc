package wasim

import (
	"encoding/binary"
	"strconv"
	"strings"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// handleUsync answers user sync queries: device lists (before sending) and
// contact existence (IsOnWhatsApp).
func (c *conn) handleUsync(n *waBinary.Node) {
	usync := n.GetChildByTag("usync")
	var want usyncWant
	query, list := usync.GetChildByTag("query"), usync.GetChildByTag("list")
	for _, q := range query.GetChildren() {
		want.devices = want.devices || q.Tag == "devices"
		want.contact = want.contact || q.Tag == "contact"
		want.lid = want.lid || q.Tag == "lid"
		want.status = want.status || q.Tag == "status"
		want.picture = want.picture || q.Tag == "picture"
	}
	var users []waBinary.Node
	for _, u := range list.GetChildren() {
		users = append(users, c.s.usyncUser(u, want, c.dev))
	}
	attrs := waBinary.Attrs{}
	for k, v := range usync.Attrs {
		attrs[k] = v
	}
	c.result(n, waBinary.Node{Tag: "usync", Attrs: attrs, Content: []waBinary.Node{
		{Tag: "result"}, {Tag: "list", Content: users},
	}})
}

// usyncWant is what a usync query asks about each user.
type usyncWant struct{ devices, contact, lid, status, picture bool }

func (s *Server) usyncUser(u waBinary.Node, want usyncWant, asker *device) waBinary.Node {
	var phone, query string
	var answer types.JID
	if jid, ok := u.Attrs["jid"].(types.JID); ok {
		phone, answer = s.usyncIdentity(jid)
	}
	if ct, ok := u.GetOptionalChildByTag("contact"); ok {
		switch v := ct.Content.(type) {
		case []byte:
			query = string(v)
		case string:
			query = v
		}
		phone = digits(strings.TrimSuffix(query, "@c.us"))
		answer = types.NewJID(phone, types.DefaultUserServer)
	}
	var children []waBinary.Node
	if want.contact {
		typ := "out"
		if exists(phone) {
			typ = "in"
		}
		children = append(children, waBinary.Node{Tag: "contact", Attrs: waBinary.Attrs{"type": typ}, Content: []byte(query)})
	}
	if want.devices {
		children = append(children, s.deviceList(phone, asker))
	}
	if want.lid {
		children = append(children, s.lidNode(phone))
	}
	if want.status && exists(phone) {
		children = append(children, waBinary.Node{Tag: "status", Content: []byte(s.profiles.aboutOf(phone))})
	}
	if want.picture && exists(phone) {
		children = append(children, waBinary.Node{Tag: "picture", Attrs: waBinary.Attrs{"id": pictureID(phone)}})
	}
	return waBinary.Node{Tag: "user", Attrs: waBinary.Attrs{"jid": answer}, Content: children}
}

// deviceList lists the primary phone (device 0) and every linked device
// but the asking one, as WhatsApp does: whatsmeow never drops its own
// device from a list, and would encrypt a group's sender key to itself.
func (s *Server) deviceList(phone string, asker *device) waBinary.Node {
	var devs []waBinary.Node
	if exists(phone) {
		devs = append(devs, waBinary.Node{Tag: "device", Attrs: waBinary.Attrs{"id": "0"}})
		for _, d := range s.linkedDevices(phone) {
			if d == asker {
				continue
			}
			devs = append(devs, waBinary.Node{Tag: "device", Attrs: waBinary.Attrs{
				"id": strconv.Itoa(int(d.jid.Device)), "key-index": strconv.Itoa(int(d.jid.Device)),
			}})
		}
	}
	return waBinary.Node{Tag: "devices", Content: []waBinary.Node{{Tag: "device-list", Content: devs}}}
}

// bundles answers a prekey fetch: the contact's keys for device 0, the
// uploaded keys of a linked device (one one-time prekey consumed each).
func (s *Server) bundles(reqs []waBinary.Node) []waBinary.Node {
	out := make([]waBinary.Node, 0, len(reqs))
	for _, r := range reqs {
		jid, ok := r.Attrs["jid"].(types.JID)
		if !ok {
			continue
		}
		b, err := s.bundle(jid)
		if err != nil {
			out = append(out, waBinary.Node{Tag: "user", Attrs: waBinary.Attrs{"jid": jid}, Content: []waBinary.Node{
				{Tag: "error", Attrs: waBinary.Attrs{"code": "404", "text": err.Error()}},
			}})
			continue
		}
		out = append(out, bundleNode(jid, b))
	}
	return out
}

// keyBundle is the public half of a device's Signal keys.
type keyBundle struct {
	regID    uint32
	identity [32]byte
	skey     signedPreKey
	prekey   *preKey
}

func bundleNode(jid types.JID, b keyBundle) waBinary.Node {
	reg := make([]byte, 4)
	binary.BigEndian.PutUint32(reg, b.regID)
	children := []waBinary.Node{
		{Tag: "registration", Content: reg},
		{Tag: "type", Content: []byte{5}},
		{Tag: "identity", Content: b.identity[:]},
	}
	if b.prekey != nil {
		children = append(children, waBinary.Node{Tag: "key", Content: []waBinary.Node{
			{Tag: "id", Content: id3(b.prekey.id)}, {Tag: "value", Content: b.prekey.pub[:]},
		}})
	}
	children = append(children, waBinary.Node{Tag: "skey", Content: []waBinary.Node{
		{Tag: "id", Content: id3(b.skey.id)}, {Tag: "value", Content: b.skey.pub[:]}, {Tag: "signature", Content: b.skey.sig[:]},
	}})
	return waBinary.Node{Tag: "user", Attrs: waBinary.Attrs{"jid": jid}, Content: children}
}

func id3(id uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, id)
	return b[1:]
}
