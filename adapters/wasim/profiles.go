package wasim

import (
	"hash/fnv"
	"slices"
	"strconv"
	"sync"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Profiles and block lists (WHATSAPP-SIM-FEATURES §5–§7): every account
// has an about text (WhatsApp's default until it sets one) and a profile
// picture; an account's block list is kept by the server, which answers
// the blocklist IQs with the whole list and drops messages from numbers
// the recipient blocked, as WhatsApp does.

// DefaultAbout is the about text of an account that never set one.
const DefaultAbout = "Hey there! I am using WhatsApp."

// profileBook holds what accounts set about themselves.
type profileBook struct {
	mu      sync.Mutex
	about   map[string]string          // by phone; missing: DefaultAbout
	blocked map[string]map[string]bool // blocker phone → blocked phones
}

func (p *profileBook) aboutOf(phone string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.about[phone]; ok {
		return a
	}
	return DefaultAbout
}

func (p *profileBook) setAbout(phone, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.about == nil {
		p.about = map[string]string{}
	}
	p.about[phone] = text
}

// setBlocked changes phone's block list and returns it, sorted.
func (p *profileBook) setBlocked(phone, other string, block bool) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blocked == nil {
		p.blocked = map[string]map[string]bool{}
	}
	if p.blocked[phone] == nil {
		p.blocked[phone] = map[string]bool{}
	}
	if block {
		p.blocked[phone][other] = true
	} else {
		delete(p.blocked[phone], other)
	}
	return p.blockListLocked(phone)
}

func (p *profileBook) blockList(phone string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blockListLocked(phone)
}

func (p *profileBook) blockListLocked(phone string) []string {
	out := make([]string, 0, len(p.blocked[phone]))
	for o := range p.blocked[phone] {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// isBlocked reports whether phone blocked other.
func (p *profileBook) isBlocked(phone, other string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blocked[phone][other]
}

// BlockList is the block list of an account (phone digits), sorted.
func (s *Server) BlockList(phone string) []string { return s.profiles.blockList(digits(phone)) }

// About is the about text of an account.
func (s *Server) About(phone string) string { return s.profiles.aboutOf(digits(phone)) }

// ownPhone is the number of the account whose device is on c.
func (c *conn) ownPhone() string {
	if c.dev == nil {
		return ""
	}
	return c.dev.jid.User
}

// listNode is the blocklist answer: the whole list with its hash.
func listNode(phones []string) waBinary.Node {
	items := make([]waBinary.Node, len(phones))
	h := fnv.New64a()
	for i, p := range phones {
		items[i] = waBinary.Node{Tag: "item", Attrs: waBinary.Attrs{"jid": types.NewJID(p, types.DefaultUserServer)}}
		h.Write([]byte(p))
	}
	return waBinary.Node{Tag: "list", Attrs: waBinary.Attrs{"dhash": strconv.FormatUint(h.Sum64(), 36)}, Content: items}
}

// handleBlocklist answers GetBlocklist (type get) and UpdateBlocklist
// (type set, one item): both with the whole list after the change.
func (c *conn) handleBlocklist(n *waBinary.Node) {
	own := c.ownPhone()
	if own == "" {
		c.iqError(n, 401, "not-authorized")
		return
	}
	if n.AttrGetter().OptionalString("type") != "set" {
		c.result(n, listNode(c.s.profiles.blockList(own)))
		return
	}
	item, ok := n.GetOptionalChildByTag("item")
	jid, jidOK := item.Attrs["jid"].(types.JID)
	action := item.AttrGetter().OptionalString("action")
	if !ok || !jidOK || (action != "block" && action != "unblock") {
		c.iqError(n, 400, "bad-request")
		return
	}
	c.result(n, listNode(c.s.profiles.setBlocked(own, c.s.phoneOfAddress(jid.String()), action == "block")))
}

// handleStatusSet stores the about text of SetStatusMessage.
func (c *conn) handleStatusSet(n *waBinary.Node) {
	own := c.ownPhone()
	st, ok := n.GetOptionalChildByTag("status")
	if own == "" || !ok || n.AttrGetter().OptionalString("type") != "set" {
		c.iqError(n, 400, "bad-request")
		return
	}
	var text string
	switch v := st.Content.(type) {
	case []byte:
		text = string(v)
	case string:
		text = v
	}
	c.s.profiles.setAbout(own, text)
	c.result(n)
}

// handlePicture answers GetProfilePictureInfo: every account on the
// network has a picture, hosted on the media host; numbers not on
// WhatsApp have none (404).
func (c *conn) handlePicture(n *waBinary.Node) {
	target, _ := n.Attrs["target"].(types.JID)
	phone := c.s.phoneOfAddress(target.String())
	if n.AttrGetter().OptionalString("type") != "get" || !exists(phone) {
		c.iqError(n, 404, "item-not-found")
		return
	}
	c.result(n, waBinary.Node{Tag: "picture", Attrs: waBinary.Attrs{
		"id": pictureID(phone), "type": "image", "url": PictureURL(phone), "direct_path": "/pp/" + phone + ".jpg",
	}})
}

// PictureURL is the URL of an account's profile picture on the simulated
// network.
func PictureURL(phone string) string { return "https://" + mediaHost + "/pp/" + digits(phone) + ".jpg" }

func pictureID(phone string) string {
	h := fnv.New32a()
	h.Write([]byte(phone))
	return strconv.FormatUint(uint64(h.Sum32()), 10)
}
