package wasim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mau.fi/libsignal/groups"
	"go.mau.fi/libsignal/protocol"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"
)

// Group messages (WHATSAPP-SIM-FEATURES §3.3, §3.4): the sender encrypts
// the content once with its sender key (skmsg) and the sender key
// distribution message (SKDM) pairwise for every member device. The server
// hands each device its pairwise enc followed by the shared skmsg, from the
// group with the sender as participant.

// handleGroupMessage fans a client's group send out to the member devices
// it encrypted for. A sender that is not a member, or not an admin of an
// announcement group, gets an error ack.
func (c *conn) handleGroupMessage(n *waBinary.Node, chat types.JID, id, now string) {
	ack := waBinary.Node{Tag: "ack", Attrs: waBinary.Attrs{"class": "message", "id": id, "t": now, "from": chat}}
	sender := c.dev.jid
	if !c.s.groupMayPost(chat, sender.User) {
		ack.Attrs["error"] = "403"
		_ = c.send(ack)
		return
	}
	ag := n.AttrGetter()
	var skmsg *waBinary.Node
	for _, ch := range n.GetChildrenByTag("enc") {
		if ch.AttrGetter().OptionalString("type") == "skmsg" {
			skmsg = &ch
		}
	}
	identity, hasIdentity := n.GetOptionalChildByTag("device-identity")
	parts, _ := n.GetOptionalChildByTag("participants")
	for _, to := range parts.GetChildren() {
		target, ok := to.Attrs["jid"].(types.JID)
		if to.Tag != "to" || !ok {
			continue
		}
		content := to.GetChildren()
		if skmsg != nil {
			content = append(content, *skmsg)
		}
		if hasIdentity {
			content = append(content, identity)
		}
		attrs := waBinary.Attrs{"id": id, "t": now, "type": ag.OptionalString("type"), "from": chat,
			"participant": sender, "participant_lid": c.s.lidOf(sender)}
		if e := ag.OptionalString("edit"); e != "" {
			attrs["edit"] = e
		}
		c.s.route(target, waBinary.Node{Tag: "message", Attrs: attrs, Content: content})
	}
	_ = c.send(ack)
}

// senderKeyName names a sender's key in a group for the contacts: keyed by
// the sender's phone-number device address.
func senderKeyName(group types.JID, sender types.JID) *protocol.SenderKeyName {
	return protocol.NewSenderKeyName(group.String(), sender.SignalAddress())
}

// openGroup decrypts a group message stanza addressed to the contact: the
// pairwise encs carry the sender's key (processed into the contact's
// store), the skmsg the content.
func (c *Contact) openGroup(n waBinary.Node, chat types.JID) (*waE2E.Message, types.JID, error) {
	sender, ok := n.Attrs["participant"].(types.JID)
	if !ok {
		return nil, types.JID{}, errors.New("group message without participant")
	}
	sender = c.s.pnOf(sender)
	var content *waE2E.Message
	for _, enc := range n.GetChildrenByTag("enc") {
		ct, _ := enc.Content.([]byte)
		typ := enc.AttrGetter().OptionalString("type")
		if typ == "skmsg" {
			pt, err := c.decryptGroup(chat, sender, ct)
			if err != nil {
				return nil, sender, fmt.Errorf("decrypt skmsg from %s: %w", sender, err)
			}
			var msg waE2E.Message
			if err := proto.Unmarshal(pt, &msg); err != nil {
				return nil, sender, fmt.Errorf("unmarshal group message: %w", err)
			}
			content = &msg
			continue
		}
		pt, err := c.decrypt(sender, typ, ct)
		if err != nil {
			return nil, sender, fmt.Errorf("decrypt skdm from %s: %w", sender, err)
		}
		var msg waE2E.Message
		if err := proto.Unmarshal(pt, &msg); err != nil {
			return nil, sender, fmt.Errorf("unmarshal skdm: %w", err)
		}
		if skdm := msg.GetSenderKeyDistributionMessage(); skdm != nil {
			if err := c.processSKDM(chat, sender, skdm.GetAxolotlSenderKeyDistributionMessage()); err != nil {
				return nil, sender, err
			}
			msg.SenderKeyDistributionMessage = nil
		}
		if !proto.Equal(&msg, &waE2E.Message{}) {
			content = &msg // a pairwise resend carries the content itself
		}
	}
	if content == nil {
		return nil, sender, errors.New("group message without content")
	}
	return content, sender, nil
}

func (c *Contact) processSKDM(chat, sender types.JID, raw []byte) error {
	dev, err := c.signalDevice()
	if err != nil {
		return err
	}
	ser := store.SignalProtobufSerializer
	skdm, err := protocol.NewSenderKeyDistributionMessageFromBytes(raw, ser.SenderKeyDistributionMessage)
	if err != nil {
		return fmt.Errorf("parse skdm from %s: %w", sender, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := groups.NewGroupSessionBuilder(dev, ser).Process(context.Background(), senderKeyName(chat, sender), skdm); err != nil {
		return fmt.Errorf("process skdm from %s: %w", sender, err)
	}
	return nil
}

func (c *Contact) decryptGroup(chat, sender types.JID, ct []byte) ([]byte, error) {
	dev, err := c.signalDevice()
	if err != nil {
		return nil, err
	}
	ser := store.SignalProtobufSerializer
	msg, err := protocol.NewSenderKeyMessageFromBytes(ct, ser.SenderKeyMessage)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	name := senderKeyName(chat, sender)
	pt, err := groups.NewGroupCipher(groups.NewGroupSessionBuilder(dev, ser), name, dev).Decrypt(context.Background(), msg)
	if err != nil {
		return nil, err
	}
	return unpad(pt)
}

// SendGroup makes the contact send a message to a group it is a member
// of: one skmsg with its sender key, the key itself pairwise to every
// linked device of the other members. It returns the message id.
func (c *Contact) SendGroup(ctx context.Context, group types.JID, msg *waE2E.Message) (string, error) {
	if !c.s.groupMayPost(group, c.phone) {
		return "", fmt.Errorf("send to %s: %s may not post there", group, c.phone)
	}
	var others []string
	for _, phone := range c.s.groupMembers(group) {
		if phone != c.phone {
			others = append(others, phone)
		}
	}
	return c.sendSenderKey(ctx, group, others, msg)
}

// SendStatus makes the contact post a status update (a story) that the
// given phones (numbers or JIDs) may see: like a group message, in the
// chat status@broadcast, to their linked devices. It returns the message
// id.
func (c *Contact) SendStatus(ctx context.Context, audience []string, msg *waE2E.Message) (string, error) {
	phones := make([]string, 0, len(audience))
	for _, a := range audience {
		phones = append(phones, c.s.phoneOfAddress(a))
	}
	return c.sendSenderKey(ctx, types.StatusBroadcastJID, phones, msg)
}

// sendSenderKey encrypts msg once with the contact's sender key of chat
// and sends it, with the key pairwise, to every linked device of phones.
func (c *Contact) sendSenderKey(ctx context.Context, chat types.JID, phones []string, msg *waE2E.Message) (string, error) {
	dev, err := c.signalDevice()
	if err != nil {
		return "", err
	}
	plaintext, err := proto.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("send: marshal: %w", err)
	}
	ser := store.SignalProtobufSerializer
	c.mu.Lock()
	builder := groups.NewGroupSessionBuilder(dev, ser)
	name := senderKeyName(chat, c.jid)
	skdm, err := builder.Create(ctx, name)
	if err != nil {
		c.mu.Unlock()
		return "", fmt.Errorf("send to %s: create sender key: %w", chat, err)
	}
	enc, err := groups.NewGroupCipher(builder, name, dev).Encrypt(ctx, pad(plaintext))
	c.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("send to %s: encrypt: %w", chat, err)
	}
	skd, err := proto.Marshal(&waE2E.Message{SenderKeyDistributionMessage: &waE2E.SenderKeyDistributionMessage{
		GroupID: proto.String(chat.String()), AxolotlSenderKeyDistributionMessage: skdm.Serialize(),
	}})
	if err != nil {
		return "", fmt.Errorf("send: marshal skdm: %w", err)
	}
	typ, edit := stanzaKind(msg)
	id := newID()
	skmsg := waBinary.Node{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": "skmsg"}, Content: enc.SignedSerialize()}
	for _, phone := range phones {
		for _, d := range c.s.linkedDevices(phone) {
			c.mu.Lock()
			ct, encType, err := c.encryptFor(ctx, d, skd)
			c.mu.Unlock()
			if err != nil {
				return "", fmt.Errorf("send to %s: %w", chat, err)
			}
			attrs := waBinary.Attrs{"id": id, "t": strconv.FormatInt(time.Now().Unix(), 10), "type": typ,
				"notify": c.pushName(), "from": chat, "participant": c.jid, "participant_lid": c.LID()}
			if edit != "" {
				attrs["edit"] = edit
			}
			d.deliver(waBinary.Node{Tag: "message", Attrs: attrs, Content: []waBinary.Node{
				{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": encType}, Content: ct}, skmsg,
			}})
		}
	}
	return id, nil
}
