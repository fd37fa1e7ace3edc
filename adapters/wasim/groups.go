package wasim

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Groups (WHATSAPP-SIM-FEATURES §3): a group is a set of accounts (their
// phones and linked devices) with roles. The server answers whatsmeow's
// w:g2 IQs, enforces the admin rules, and pushes w:gp2 notifications to
// every member device, which whatsmeow turns into JoinedGroup/GroupInfo
// events.

// The roles a member has, as the group node names them ("" is a member).
const (
	roleMember     = ""
	roleAdmin      = "admin"
	roleSuperAdmin = "superadmin"
)

// Phone numbers starting with 998 exist but refuse being added to groups by
// their privacy settings: an add answers 403 with an invite request.
const privacyPrefix = "998"

// maxGroupSize is WhatsApp's limit on members.
const maxGroupSize = 1024

// group is one group's state.
type group struct {
	id        string // the local part of the JID
	created   time.Time
	creator   string // phone
	subject   string
	subjectAt time.Time
	subjectBy string
	desc      string
	descID    string
	announce  bool
	locked    bool
	ephemeral uint32
	invite    string
	picture   string
	members   map[string]string // phone → role
	order     []string          // phones in join order
}

func (g *group) jid() types.JID { return types.NewJID(g.id, types.GroupServer) }

func (g *group) isAdmin(phone string) bool {
	r, ok := g.members[phone]
	return ok && r != roleMember
}

func (g *group) add(phone, role string) {
	if _, ok := g.members[phone]; ok {
		return
	}
	g.members[phone] = role
	g.order = append(g.order, phone)
}

func (g *group) remove(phone string) {
	delete(g.members, phone)
	g.order = slices.DeleteFunc(g.order, func(p string) bool { return p == phone })
}

// groupBook holds the network's groups.
type groupBook struct {
	mu      sync.Mutex
	byID    map[string]*group
	invites map[string]string // live invite code → group id
	revoked map[string]bool   // invite codes no longer valid
	next    uint64
}

// Group errors, answered as IQ errors with these codes.
var (
	errGroupNotFound = &iqErr{404, "item-not-found"}
	errNotInGroup    = &iqErr{403, "forbidden"}
	errNotAdmin      = &iqErr{403, "forbidden"}
	errNotAuthorized = &iqErr{401, "not-authorized"}
	errBadRequest    = &iqErr{400, "bad-request"}
	errInviteGone    = &iqErr{410, "gone"}
	errInviteBad     = &iqErr{406, "not-acceptable"}
)

type iqErr struct {
	code int
	text string
}

func (e *iqErr) Error() string { return e.text }

func (b *groupBook) init() {
	if b.byID == nil {
		b.byID, b.invites, b.revoked = map[string]*group{}, map[string]string{}, map[string]bool{}
		b.next = 120363000000000000
	}
}

// create makes a new group; b.mu must be held.
func (b *groupBook) createLocked(creator, subject string, now time.Time) *group {
	b.init()
	b.next++
	g := &group{id: strconv.FormatUint(b.next, 10), created: now, creator: creator, subject: subject,
		subjectAt: now, subjectBy: creator, members: map[string]string{}}
	g.add(creator, roleSuperAdmin)
	b.byID[g.id] = g
	return g
}

// lookupLocked finds a group by JID; b.mu must be held.
func (b *groupBook) lookupLocked(jid types.JID) (*group, error) {
	b.init()
	g := b.byID[jid.User]
	if jid.Server != types.GroupServer || g == nil {
		return nil, errGroupNotFound
	}
	return g, nil
}

// newInviteLocked replaces a group's invite code; b.mu must be held.
func (b *groupBook) newInviteLocked(g *group) string {
	if g.invite != "" {
		delete(b.invites, g.invite)
		b.revoked[g.invite] = true
	}
	g.invite = (newID() + newID())[:22]
	b.invites[g.invite] = g.id
	return g.invite
}

// memberPhones lists a group's members (a copy); b.mu must be held.
func (g *group) memberPhones() []string { return slices.Clone(g.order) }

// node renders the group node of §3.2 for a requester.
func (s *Server) groupNode(g *group) waBinary.Node {
	attrs := waBinary.Attrs{
		"id": g.id, "creation": strconv.FormatInt(g.created.Unix(), 10),
		"creator": types.NewJID(g.creator, types.DefaultUserServer), "subject": g.subject,
		"s_t": strconv.FormatInt(g.subjectAt.Unix(), 10), "s_o": types.NewJID(g.subjectBy, types.DefaultUserServer),
		"size": strconv.Itoa(len(g.order)), "addressing_mode": "pn",
	}
	children := make([]waBinary.Node, 0, len(g.order)+4)
	for _, p := range g.order {
		children = append(children, s.participantNode(p, g.members[p]))
	}
	if g.desc != "" {
		children = append(children, waBinary.Node{Tag: "description", Attrs: waBinary.Attrs{
			"id": g.descID, "t": strconv.FormatInt(g.created.Unix(), 10),
		}, Content: []waBinary.Node{{Tag: "body", Content: []byte(g.desc)}}})
	}
	if g.announce {
		children = append(children, waBinary.Node{Tag: "announcement"})
	}
	if g.locked {
		children = append(children, waBinary.Node{Tag: "locked"})
	}
	if g.ephemeral > 0 {
		children = append(children, waBinary.Node{Tag: "ephemeral", Attrs: waBinary.Attrs{"expiration": strconv.FormatUint(uint64(g.ephemeral), 10)}})
	}
	return waBinary.Node{Tag: "group", Attrs: attrs, Content: children}
}

func (s *Server) participantNode(phone, role string) waBinary.Node {
	pn := types.NewJID(phone, types.DefaultUserServer)
	attrs := waBinary.Attrs{"jid": pn, "lid": s.lidOf(pn).ToNonAD()}
	if role != roleMember {
		attrs["type"] = role
	}
	return waBinary.Node{Tag: "participant", Attrs: attrs}
}

// notifyGroup pushes a w:gp2 notification from group g, made by actor, to
// every linked device of the given phones.
func (s *Server) notifyGroup(g types.JID, actor string, phones []string, children ...waBinary.Node) {
	attrs := waBinary.Attrs{"type": "w:gp2", "from": g, "t": strconv.FormatInt(time.Now().Unix(), 10)}
	if actor != "" {
		pn := types.NewJID(actor, types.DefaultUserServer)
		attrs["participant"], attrs["participant_lid"] = pn, s.lidOf(pn).ToNonAD()
	}
	for _, p := range phones {
		for _, d := range s.linkedDevices(p) {
			a := make(waBinary.Attrs, len(attrs)+1)
			for k, v := range attrs {
				a[k] = v
			}
			a["id"] = newID()
			d.deliver(waBinary.Node{Tag: "notification", Attrs: a, Content: children})
		}
	}
}

// participantList renders <participant jid/> children for phones.
func (s *Server) participantList(phones []string) []waBinary.Node {
	out := make([]waBinary.Node, 0, len(phones))
	for _, p := range phones {
		pn := types.NewJID(p, types.DefaultUserServer)
		out = append(out, waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": pn, "lid": s.lidOf(pn).ToNonAD()}})
	}
	return out
}

// phoneOfJID is the phone of a participant JID (PN or LID, any device).
func (s *Server) phoneOfJID(v any) string {
	jid, ok := v.(types.JID)
	if !ok {
		return ""
	}
	return s.pnOf(jid).User
}

// handleGroupIQ answers xmlns=w:g2.
func (c *conn) handleGroupIQ(n *waBinary.Node) {
	if c.dev == nil {
		c.iqError(n, 401, "not-authorized")
		return
	}
	actor := c.dev.jid.User
	to, _ := n.Attrs["to"].(types.JID)
	get := n.AttrGetter().OptionalString("type") == "get"
	kids := n.GetChildren()
	if len(kids) == 0 {
		c.iqError(n, 400, "bad-request")
		return
	}
	res, err := c.s.groupRequest(actor, to, get, kids)
	var ie *iqErr
	switch {
	case errors.As(err, &ie):
		c.iqError(n, ie.code, ie.text)
	case err != nil:
		c.iqError(n, 500, err.Error())
	case res != nil:
		c.result(n, *res)
	default:
		c.result(n)
	}
}

// groupRequest carries out one group IQ of actor (a phone) and returns the
// child of the answer, if any.
func (s *Server) groupRequest(actor string, to types.JID, get bool, kids []waBinary.Node) (*waBinary.Node, error) {
	first := kids[0]
	if to.Server == types.GroupServer && to.User == "" {
		switch first.Tag {
		case "create":
			return s.groupCreate(actor, first)
		case "participating":
			return s.groupsOf(actor), nil
		case "leave":
			for _, gn := range first.GetChildrenByTag("group") {
				jid, _ := gn.Attrs["id"].(types.JID)
				if err := s.groupLeave(actor, jid); err != nil {
					return nil, err
				}
			}
			return nil, nil
		case "invite":
			code := first.AttrGetter().OptionalString("code")
			if get {
				return s.groupByInvite(code)
			}
			return s.groupJoin(actor, code)
		}
		return nil, errBadRequest
	}
	switch first.Tag {
	case "query":
		return s.groupInfo(actor, to)
	case "add", "remove", "promote", "demote":
		return s.groupParticipants(actor, to, first)
	case "invite":
		return s.groupInvite(actor, to, !get)
	}
	return nil, s.groupSetting(actor, to, kids)
}

// GroupCreate makes actor (a phone) create a group with the given members
// and returns its JID: the phone-side of "a contact adds the instance to a
// new group".
func (s *Server) GroupCreate(actor, subject string, members []string) (types.JID, error) {
	parts := make([]waBinary.Node, 0, len(members))
	for _, m := range members {
		parts = append(parts, waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": types.NewJID(s.phoneOfAddress(m), types.DefaultUserServer)}})
	}
	res, err := s.groupCreate(digits(actor), waBinary.Node{Tag: "create", Attrs: waBinary.Attrs{"subject": subject}, Content: parts})
	if err != nil {
		return types.JID{}, err
	}
	return types.NewJID(res.AttrGetter().String("id"), types.GroupServer), nil
}

func (s *Server) groupCreate(actor string, req waBinary.Node) (*waBinary.Node, error) {
	ag := req.AttrGetter()
	subject := ag.OptionalString("subject")
	if subject == "" || len(subject) > 100 {
		return nil, errBadRequest
	}
	now := time.Now()
	s.groups.mu.Lock()
	g := s.groups.createLocked(actor, subject, now)
	var refused []waBinary.Node
	for _, p := range req.GetChildren() {
		switch p.Tag {
		case "participant":
			phone := s.phoneOfJID(p.Attrs["jid"])
			switch {
			case !exists(phone):
				refused = append(refused, waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": p.Attrs["jid"], "error": "404"}})
			case len(g.order) >= maxGroupSize:
				refused = append(refused, waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": p.Attrs["jid"], "error": "500"}})
			default:
				g.add(phone, roleMember)
			}
		case "locked":
			g.locked = true
		case "announcement":
			g.announce = true
		case "ephemeral":
			e, _ := strconv.ParseUint(p.AttrGetter().OptionalString("expiration"), 10, 32)
			g.ephemeral = uint32(e)
		}
	}
	node := s.groupNode(g)
	node.Content = append(node.GetChildren(), refused...)
	members := g.memberPhones()
	s.groups.mu.Unlock()
	create := waBinary.Node{Tag: "create", Attrs: waBinary.Attrs{"type": "new"}, Content: []waBinary.Node{s.groupNode(g)}}
	if key := ag.OptionalString("key"); key != "" {
		create.Attrs["key"] = key
	}
	s.notifyGroup(g.jid(), actor, members, create)
	return &node, nil
}

func (s *Server) groupsOf(actor string) *waBinary.Node {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	s.groups.init()
	ids := make([]string, 0)
	for id, g := range s.groups.byID {
		if _, ok := g.members[actor]; ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	nodes := make([]waBinary.Node, 0, len(ids))
	for _, id := range ids {
		nodes = append(nodes, s.groupNode(s.groups.byID[id]))
	}
	return &waBinary.Node{Tag: "groups", Content: nodes}
}

func (s *Server) groupInfo(actor string, jid types.JID) (*waBinary.Node, error) {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		return nil, err
	}
	if _, ok := g.members[actor]; !ok {
		return nil, errNotInGroup
	}
	n := s.groupNode(g)
	return &n, nil
}

// groupParticipants adds, removes, promotes or demotes members: admins
// only; one result per number (error 404 not on WhatsApp, 403 refused by
// the number's privacy, 409 already a member, 404 not a member).
func (s *Server) groupParticipants(actor string, jid types.JID, req waBinary.Node) (*waBinary.Node, error) {
	action := req.Tag
	s.groups.mu.Lock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		s.groups.mu.Unlock()
		return nil, err
	}
	if _, ok := g.members[actor]; !ok {
		s.groups.mu.Unlock()
		return nil, errNotInGroup
	}
	if !g.isAdmin(actor) {
		s.groups.mu.Unlock()
		return nil, errNotAdmin
	}
	before := g.memberPhones()
	var results []waBinary.Node
	var changed []string
	for _, p := range req.GetChildrenByTag("participant") {
		pj := p.Attrs["jid"]
		phone := s.phoneOfJID(pj)
		res := waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": pj}}
		_, member := g.members[phone]
		code := ""
		switch {
		case !exists(phone):
			code = "404"
		case action == "add" && member:
			code = "409"
		case action == "add" && len(g.order) >= maxGroupSize:
			code = "500"
		case action == "add" && len(phone) > 3 && phone[:3] == privacyPrefix:
			code = "403"
			res.Content = []waBinary.Node{{Tag: "add_request", Attrs: waBinary.Attrs{
				"code": newID(), "expiration": strconv.FormatInt(time.Now().Add(72*time.Hour).Unix(), 10),
			}}}
		case action != "add" && !member:
			code = "404"
		case (action == "remove" || action == "demote") && g.members[phone] == roleSuperAdmin && actor != phone:
			code = "406"
		}
		if code != "" {
			res.Attrs["error"] = code
			results = append(results, res)
			continue
		}
		switch action {
		case "add":
			g.add(phone, roleMember)
		case "remove":
			g.remove(phone)
		case "promote":
			g.members[phone] = roleAdmin
		case "demote":
			g.members[phone] = roleMember
		}
		if action == "promote" || action == "demote" {
			res.Attrs["type"] = g.members[phone]
			if res.Attrs["type"] == roleMember {
				delete(res.Attrs, "type")
			}
		}
		changed = append(changed, phone)
		results = append(results, res)
	}
	after := g.memberPhones()
	s.groups.mu.Unlock()
	if len(changed) > 0 {
		s.notifyGroup(jid, actor, union(before, after),
			waBinary.Node{Tag: action, Content: s.participantList(changed)})
	}
	return &waBinary.Node{Tag: action, Content: results}, nil
}

// GroupParticipants makes the phone actor add, remove, promote or demote
// members of a group, as an admin on their phone would.
func (s *Server) GroupParticipants(actor string, jid types.JID, action string, phones []string) error {
	parts := make([]waBinary.Node, 0, len(phones))
	for _, p := range phones {
		parts = append(parts, waBinary.Node{Tag: "participant", Attrs: waBinary.Attrs{"jid": types.NewJID(s.phoneOfAddress(p), types.DefaultUserServer)}})
	}
	switch action {
	case "add", "remove", "promote", "demote":
	default:
		return errBadRequest
	}
	_, err := s.groupParticipants(digits(actor), jid, waBinary.Node{Tag: action, Content: parts})
	return err
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, p := range b {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// GroupLeave makes the phone actor leave a group.
func (s *Server) GroupLeave(actor string, jid types.JID) error {
	return s.groupLeave(digits(actor), jid)
}

func (s *Server) groupLeave(actor string, jid types.JID) error {
	s.groups.mu.Lock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		s.groups.mu.Unlock()
		return err
	}
	if _, ok := g.members[actor]; !ok {
		s.groups.mu.Unlock()
		return errNotInGroup
	}
	before := g.memberPhones()
	wasSuper := g.members[actor] == roleSuperAdmin
	g.remove(actor)
	var promoted string
	if wasSuper && len(g.order) > 0 && !slices.ContainsFunc(g.order, g.isAdmin) {
		promoted = g.order[0]
		g.members[promoted] = roleAdmin
	}
	if len(g.order) == 0 {
		delete(s.groups.byID, g.id)
	}
	s.groups.mu.Unlock()
	kids := []waBinary.Node{{Tag: "remove", Content: s.participantList([]string{actor})}}
	if promoted != "" {
		kids = append(kids, waBinary.Node{Tag: "promote", Content: s.participantList([]string{promoted})})
	}
	s.notifyGroup(jid, actor, before, kids...)
	return nil
}

// groupInvite returns (reset: replaces) the group's invite code: admins
// only.
func (s *Server) groupInvite(actor string, jid types.JID, reset bool) (*waBinary.Node, error) {
	s.groups.mu.Lock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		s.groups.mu.Unlock()
		return nil, err
	}
	if _, ok := g.members[actor]; !ok {
		s.groups.mu.Unlock()
		return nil, errNotInGroup
	}
	if !g.isAdmin(actor) {
		s.groups.mu.Unlock()
		return nil, errNotAuthorized
	}
	if g.invite == "" || reset {
		s.groups.newInviteLocked(g)
	}
	code, members := g.invite, g.memberPhones()
	s.groups.mu.Unlock()
	if reset {
		s.notifyGroup(jid, actor, members, waBinary.Node{Tag: "invite", Attrs: waBinary.Attrs{"code": code}})
	}
	return &waBinary.Node{Tag: "invite", Attrs: waBinary.Attrs{"code": code}}, nil
}

func (s *Server) inviteLocked(code string) (*group, error) {
	s.groups.init()
	if id, ok := s.groups.invites[code]; ok {
		if g := s.groups.byID[id]; g != nil {
			return g, nil
		}
	}
	if s.groups.revoked[code] {
		return nil, errInviteGone
	}
	return nil, errInviteBad
}

func (s *Server) groupByInvite(code string) (*waBinary.Node, error) {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	g, err := s.inviteLocked(code)
	if err != nil {
		return nil, err
	}
	n := s.groupNode(g)
	return &n, nil
}

// groupJoin adds actor to the group of an invite code.
func (s *Server) groupJoin(actor, code string) (*waBinary.Node, error) {
	s.groups.mu.Lock()
	g, err := s.inviteLocked(code)
	if err != nil {
		s.groups.mu.Unlock()
		return nil, err
	}
	_, member := g.members[actor]
	if !member {
		if len(g.order) >= maxGroupSize {
			s.groups.mu.Unlock()
			return nil, &iqErr{409, "conflict"}
		}
		g.add(actor, roleMember)
	}
	members := g.memberPhones()
	s.groups.mu.Unlock()
	if !member {
		s.notifyGroup(g.jid(), actor, members, waBinary.Node{Tag: "add", Attrs: waBinary.Attrs{"reason": "invite"},
			Content: s.participantList([]string{actor})})
	}
	return &waBinary.Node{Tag: "group", Attrs: waBinary.Attrs{"jid": g.jid()}}, nil
}

// groupSetting applies subject, description, locked/unlocked,
// announcement/not_announcement and ephemeral/not_ephemeral. A locked
// group's settings are for admins only; announce, lock and the timer are
// always.
func (s *Server) groupSetting(actor string, jid types.JID, kids []waBinary.Node) error {
	s.groups.mu.Lock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		s.groups.mu.Unlock()
		return err
	}
	if _, ok := g.members[actor]; !ok {
		s.groups.mu.Unlock()
		return errNotInGroup
	}
	now := time.Now()
	t := strconv.FormatInt(now.Unix(), 10)
	var notes []waBinary.Node
	for _, k := range kids {
		adminOnly := g.locked || (k.Tag != "subject" && k.Tag != "description")
		if adminOnly && !g.isAdmin(actor) {
			s.groups.mu.Unlock()
			return errNotAdmin
		}
		switch k.Tag {
		case "subject":
			subject := contentString(k.Content)
			if subject == "" || len(subject) > 100 {
				s.groups.mu.Unlock()
				return errBadRequest
			}
			g.subject, g.subjectAt, g.subjectBy = subject, now, actor
			notes = append(notes, waBinary.Node{Tag: "subject", Attrs: waBinary.Attrs{
				"subject": subject, "s_t": t, "s_o": types.NewJID(actor, types.DefaultUserServer),
			}})
		case "description":
			ag := k.AttrGetter()
			id := ag.OptionalString("id")
			if id == "" {
				id = newID()
			}
			body, hasBody := k.GetOptionalChildByTag("body")
			text := contentString(body.Content)
			if len(text) > 2048 {
				s.groups.mu.Unlock()
				return errBadRequest
			}
			g.desc, g.descID = text, id
			note := waBinary.Node{Tag: "description", Attrs: waBinary.Attrs{"id": id}}
			if hasBody && text != "" {
				note.Content = []waBinary.Node{{Tag: "body", Content: []byte(text)}}
			} else {
				g.desc = ""
				note.Content = []waBinary.Node{{Tag: "delete"}}
			}
			notes = append(notes, note)
		case "locked", "unlocked":
			g.locked = k.Tag == "locked"
			notes = append(notes, waBinary.Node{Tag: k.Tag})
		case "announcement", "not_announcement":
			g.announce = k.Tag == "announcement"
			notes = append(notes, waBinary.Node{Tag: k.Tag, Attrs: waBinary.Attrs{"v_id": t}})
		case "ephemeral":
			e, perr := strconv.ParseUint(k.AttrGetter().OptionalString("expiration"), 10, 32)
			if perr != nil || e == 0 {
				s.groups.mu.Unlock()
				return errBadRequest
			}
			g.ephemeral = uint32(e)
			notes = append(notes, waBinary.Node{Tag: "ephemeral", Attrs: waBinary.Attrs{"expiration": strconv.FormatUint(e, 10)}})
		case "not_ephemeral":
			g.ephemeral = 0
			notes = append(notes, waBinary.Node{Tag: "not_ephemeral"})
		default:
			s.groups.mu.Unlock()
			return errBadRequest
		}
	}
	members := g.memberPhones()
	s.groups.mu.Unlock()
	s.notifyGroup(jid, actor, members, notes...)
	return nil
}

// GroupSet makes the phone actor change a group's subject or description,
// as on their phone.
func (s *Server) GroupSet(actor string, jid types.JID, what, value string) error {
	var n waBinary.Node
	switch what {
	case "subject":
		n = waBinary.Node{Tag: "subject", Content: []byte(value)}
	case "description":
		n = waBinary.Node{Tag: "description", Attrs: waBinary.Attrs{"id": newID()},
			Content: []waBinary.Node{{Tag: "body", Content: []byte(value)}}}
	default:
		return errBadRequest
	}
	return s.groupSetting(digits(actor), jid, []waBinary.Node{n})
}

// groupPicture sets (or, with no data, removes) a group's picture: admins
// only in a locked group.
func (s *Server) groupPicture(actor string, jid types.JID, data []byte) (string, error) {
	s.groups.mu.Lock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		s.groups.mu.Unlock()
		return "", err
	}
	if _, ok := g.members[actor]; !ok {
		s.groups.mu.Unlock()
		return "", errNotInGroup
	}
	if g.locked && !g.isAdmin(actor) {
		s.groups.mu.Unlock()
		return "", errNotAdmin
	}
	if len(data) > 0 {
		if len(data) < 3 || data[0] != 0xff || data[1] != 0xd8 {
			s.groups.mu.Unlock()
			return "", errInviteBad // 406: not a JPEG
		}
		g.picture = strconv.FormatInt(time.Now().UnixNano(), 10)
	} else {
		g.picture = ""
	}
	id, members := g.picture, g.memberPhones()
	s.groups.mu.Unlock()
	child := waBinary.Node{Tag: "delete", Attrs: waBinary.Attrs{"jid": jid, "author": types.NewJID(actor, types.DefaultUserServer)}}
	if id != "" {
		child = waBinary.Node{Tag: "set", Attrs: waBinary.Attrs{"jid": jid, "id": id, "author": types.NewJID(actor, types.DefaultUserServer)}}
	}
	for _, p := range members {
		for _, d := range s.linkedDevices(p) {
			d.deliver(waBinary.Node{Tag: "notification", Attrs: waBinary.Attrs{
				"type": "picture", "from": jid, "id": newID(), "t": strconv.FormatInt(time.Now().Unix(), 10),
			}, Content: []waBinary.Node{child}})
		}
	}
	return id, nil
}

// GroupPicture reports a group's picture id ("" when none): what a member's
// phone shows.
func (s *Server) GroupPicture(jid types.JID) string {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		return ""
	}
	return g.picture
}

// handlePictureIQ answers xmlns=w:profile:picture for a group target.
func (c *conn) handlePictureIQ(n *waBinary.Node) {
	target, _ := n.Attrs["target"].(types.JID)
	if c.dev == nil || target.Server != types.GroupServer || n.AttrGetter().OptionalString("type") != "set" {
		c.result(n)
		return
	}
	var data []byte
	if p, ok := n.GetOptionalChildByTag("picture"); ok {
		data, _ = p.Content.([]byte)
	}
	id, err := c.s.groupPicture(c.dev.jid.User, target, data)
	var ie *iqErr
	if errors.As(err, &ie) {
		c.iqError(n, ie.code, ie.text)
		return
	}
	c.result(n, waBinary.Node{Tag: "picture", Attrs: waBinary.Attrs{"id": id}})
}

// GroupInfo is a group as the network knows it, for tests and the sandbox.
type GroupInfo struct {
	JID         types.JID
	Subject     string
	Description string
	Members     map[string]string // phone → "", "admin" or "superadmin"
	Announce    bool
	Locked      bool
	Ephemeral   uint32
	Invite      string
}

// Group returns a group's state; false when there is none.
func (s *Server) Group(jid types.JID) (GroupInfo, bool) {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		return GroupInfo{}, false
	}
	members := make(map[string]string, len(g.members))
	for k, v := range g.members {
		members[k] = v
	}
	return GroupInfo{JID: g.jid(), Subject: g.subject, Description: g.desc, Members: members,
		Announce: g.announce, Locked: g.locked, Ephemeral: g.ephemeral, Invite: g.invite}, true
}

// groupMembers lists a group's members, or nil if there is no such group.
func (s *Server) groupMembers(jid types.JID) []string {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		return nil
	}
	return g.memberPhones()
}

// groupMayPost reports whether phone may post in a group: a member, and an
// admin in an announcement group.
func (s *Server) groupMayPost(jid types.JID, phone string) bool {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	g, err := s.groups.lookupLocked(jid)
	if err != nil {
		return false
	}
	_, member := g.members[phone]
	return member && (!g.announce || g.isAdmin(phone))
}

func contentString(v any) string {
	switch c := v.(type) {
	case []byte:
		return string(c)
	case string:
		return c
	}
	return ""
}

// GroupInviteCode returns a group's invite code as the admin actor's phone
// shows it (creating one if there is none).
func (s *Server) GroupInviteCode(actor string, jid types.JID) (string, error) {
	n, err := s.groupInvite(digits(actor), jid, false)
	if err != nil {
		return "", err
	}
	return n.AttrGetter().String("code"), nil
}
