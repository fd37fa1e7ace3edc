package wasim

import (
	"context"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// LID addressing (WHATSAPP-SIM-FEATURES §2.3): every account has a LID
// user beside its phone number. Clients may address a user, its devices,
// prekeys and messages by either; the server answers in the form asked,
// routes both to the same devices, and names the other form on deliveries
// (sender_pn / sender_lid) so that whatsmeow records the mapping.

// LID is the phone's anonymous id as a JID (…@lid).
func (c *Contact) LID() types.JID {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.accountLocked(c.phone).lid
}

// phoneOfLID finds the phone number of a LID user; false if none has it.
// The network is small (a test's handful of phones), so a scan will do.
func (s *Server) phoneOfLID(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for phone, a := range s.accounts {
		if a.lid.User == user {
			return phone, true
		}
	}
	return "", false
}

// pnOf turns a LID (device) JID into the phone-number JID of the same
// device; other JIDs are returned as they are. An unknown LID becomes a
// JID with no user, which exists() refuses: its digits must not be taken
// for a phone number.
func (s *Server) pnOf(jid types.JID) types.JID {
	if jid.Server != types.HiddenUserServer {
		return jid
	}
	phone, ok := s.phoneOfLID(jid.User)
	if !ok {
		return types.JID{Server: types.DefaultUserServer, Device: jid.Device}
	}
	return types.JID{User: phone, Device: jid.Device, Server: types.DefaultUserServer}
}

// lidOf is the LID JID of a phone-number device JID (same device).
func (s *Server) lidOf(pn types.JID) types.JID {
	s.mu.Lock()
	defer s.mu.Unlock()
	lid := s.accountLocked(pn.User).lid
	lid.Device = pn.Device
	return lid
}

// usyncIdentity resolves a usync <user jid>: the phone number to answer
// for, and the JID to answer with (the one asked for, since whatsmeow
// caches device lists by the answer's JID).
func (s *Server) usyncIdentity(jid types.JID) (phone string, answer types.JID) {
	if jid.Server == types.HiddenUserServer {
		return s.pnOf(jid).User, jid.ToNonAD()
	}
	return jid.User, types.NewJID(jid.User, types.DefaultUserServer)
}

// lidNode answers a usync <lid/> query (GetUserInfo): the user's LID,
// or nothing for a number that is not on the network.
func (s *Server) lidNode(phone string) waBinary.Node {
	if !exists(phone) {
		return waBinary.Node{Tag: "lid"}
	}
	return waBinary.Node{Tag: "lid", Attrs: waBinary.Attrs{"val": s.lidOf(types.NewJID(phone, types.DefaultUserServer)).ToNonAD()}}
}

// addressAs sets the sender attributes of a message from device `from`
// (a phone-number device JID) in a chat addressed by LID or by phone
// number: the sender in the chat's form, the other form beside it.
func (s *Server) addressAs(attrs waBinary.Attrs, from types.JID, byLID bool) {
	lid := s.lidOf(from)
	if byLID {
		attrs["from"], attrs["sender_pn"] = lid, from
		return
	}
	attrs["from"], attrs["sender_lid"] = from, lid
}

// SendFromLID is Send in a LID-addressed chat: the message comes from the
// contact's LID, with its phone number as sender_pn.
func (c *Contact) SendFromLID(ctx context.Context, to string, msg *waE2E.Message) (string, error) {
	return c.send(ctx, to, msg, true)
}

// ContactSendTextFromLID makes the contact `from` send text to `to` from
// its LID.
func (s *Server) ContactSendTextFromLID(ctx context.Context, from, to, text string) error {
	_, err := s.Contact(from).SendFromLID(ctx, to, &waE2E.Message{Conversation: proto.String(text)})
	return err
}

// SendReceiptFromLID is SendReceipt from the contact's LID: how a phone
// acknowledges messages it received in a LID-addressed chat.
func (c *Contact) SendReceiptFromLID(ctx context.Context, from string, ids []string, read bool) error {
	return c.sendReceipt(ctx, from, ids, read, true)
}

// phoneOfAddress is the phone number of an address a test or the control
// API names an account by: digits, "+…", a phone-number JID or a LID JID.
func (s *Server) phoneOfAddress(addr string) string {
	if jid, err := types.ParseJID(addr); err == nil && jid.Server == types.HiddenUserServer {
		return s.pnOf(jid).User
	}
	return digits(addr)
}
