package wasim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// Reactions, edits and revokes (WHATSAPP-SIM-FEATURES §1.2, §1.4, §1.5):
// a contact understands those it receives, applying each to the message it
// names in its record, and sends them toward an instance as a phone does.

// Action is what a received reaction, edit or revoke does to the message
// TargetID names.
type Action struct {
	TargetID string
	Kind     string // reaction, edit or revoke
	Emoji    string // reaction; "" removes
	Text     string // edit: the new text or caption
}

// stanzaKind is the message stanza's type and edit attributes for msg, as
// whatsmeow's getTypeFromMessage and getEditAttribute set them.
func stanzaKind(msg *waE2E.Message) (typ, edit string) {
	switch {
	case msg.GetReactionMessage() != nil:
		if msg.GetReactionMessage().GetText() == "" {
			return "reaction", "7"
		}
		return "reaction", ""
	case msg.GetEditedMessage() != nil:
		return "text", "1"
	case msg.GetProtocolMessage() != nil && msg.GetProtocolMessage().GetType() == waE2E.ProtocolMessage_REVOKE:
		if msg.GetProtocolMessage().GetKey().GetFromMe() {
			return "text", "7"
		}
		return "text", "8"
	case msg.GetConversation() != "" || msg.GetExtendedTextMessage() != nil:
		return "text", ""
	}
	return "media", ""
}

// fillActions reads the action and the context of a decrypted message.
func (s *Server) fillActions(r *Received, m *waE2E.Message) {
	if inner := m.GetEditedMessage().GetMessage(); inner != nil {
		m = inner
	}
	if re := m.GetReactionMessage(); re != nil {
		r.Type, r.Action = "reaction", &Action{TargetID: re.GetKey().GetID(), Kind: "reaction", Emoji: re.GetText()}
		return
	}
	// A message without a protocol part reads as type REVOKE (its zero
	// value): check for the part first.
	switch pm := m.GetProtocolMessage(); {
	case pm == nil:
	case pm.GetType() == waE2E.ProtocolMessage_REVOKE:
		r.Type, r.Action = "revoke", &Action{TargetID: pm.GetKey().GetID(), Kind: "revoke"}
		return
	case pm.GetType() == waE2E.ProtocolMessage_MESSAGE_EDIT:
		em := pm.GetEditedMessage()
		text := em.GetConversation()
		if text == "" {
			text = em.GetExtendedTextMessage().GetText()
		}
		r.Type, r.Action = "edit", &Action{TargetID: pm.GetKey().GetID(), Kind: "edit", Text: text}
		return
	}
	if et := m.GetExtendedTextMessage(); et != nil {
		r.PreviewTitle = et.GetTitle()
	}
	ci := contextInfo(m)
	r.Mentions, r.IsForwarded = ci.GetMentionedJID(), ci.GetIsForwarded()
	if r.QuotedID == "" { // the kinds fill does not read a quote from (a poll, a location, several contacts)
		r.QuotedID = ci.GetStanzaID()
	}
}

// contextInfo is the context of whichever kind m is.
func contextInfo(m *waE2E.Message) *waE2E.ContextInfo {
	for _, c := range []*waE2E.ContextInfo{
		m.GetExtendedTextMessage().GetContextInfo(), m.GetImageMessage().GetContextInfo(),
		m.GetVideoMessage().GetContextInfo(), m.GetDocumentMessage().GetContextInfo(),
		m.GetAudioMessage().GetContextInfo(), m.GetLocationMessage().GetContextInfo(),
		m.GetStickerMessage().GetContextInfo(), m.GetContactMessage().GetContextInfo(),
		m.GetContactsArrayMessage().GetContextInfo(), m.GetPollCreationMessage().GetContextInfo(),
	} {
		if c != nil {
			return c
		}
	}
	return nil
}

// apply records a received message, or applies an action to the message
// of the same sender it names (a phone ignores actions on messages it
// does not have, and edits or revokes by anyone but the author).
func (l *phoneLog) apply(r *Received) {
	if r.Action == nil {
		l.add(r.record())
		return
	}
	from := nonAD(r.From)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.items {
		m := &l.items[i]
		if m.WAMessageID != r.Action.TargetID {
			continue
		}
		switch r.Action.Kind {
		case "reaction":
			m.Reactions = slices.DeleteFunc(m.Reactions, func(x ports.Reaction) bool { return x.From == from })
			if r.Action.Emoji != "" {
				m.Reactions = append(m.Reactions, ports.Reaction{From: from, Emoji: r.Action.Emoji, At: r.Timestamp})
			}
		case "edit":
			if m.From == from {
				m.EditedText = r.Action.Text
			}
		case "revoke":
			if m.From == from {
				m.Deleted = true
			}
		}
		return
	}
}

// withContext copies the context fields into the phone's record.
func (r *Received) withContext(m ports.PhoneMessage) ports.PhoneMessage {
	m.Quoted, m.Mentions, m.IsForwarded, m.PreviewTitle = r.QuotedID, r.Mentions, r.IsForwarded, r.PreviewTitle
	return m
}

// targetKey is the protocol key of a message the contact acts on, named
// from its side: k.Chat is the instance's phone (or JID), FromMe marks a
// message the contact sent, otherwise one it received from the instance.
func targetKey(k ports.WAMessageKey) *waCommon.MessageKey {
	return &waCommon.MessageKey{RemoteJID: proto.String(types.NewJID(digits(k.Chat), types.DefaultUserServer).String()),
		ID: proto.String(k.ID), FromMe: proto.Bool(k.FromMe)}
}

// React makes the contact react to a message of its chat with the
// instance; "" removes its reaction.
func (c *Contact) React(ctx context.Context, k ports.WAMessageKey, emoji string) (string, error) {
	return c.Send(ctx, k.Chat, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{
		Key: targetKey(k), Text: proto.String(emoji), SenderTimestampMS: proto.Int64(time.Now().UnixMilli()),
	}})
}

// Edit makes the contact edit a text or caption it sent.
func (c *Contact) Edit(ctx context.Context, k ports.WAMessageKey, text string) (string, error) {
	if !k.FromMe {
		return "", fmt.Errorf("edit %s: only the author edits a message", k.ID)
	}
	return c.Send(ctx, k.Chat, &waE2E.Message{EditedMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
		ProtocolMessage: &waE2E.ProtocolMessage{
			Type: waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(), Key: targetKey(k),
			EditedMessage: &waE2E.Message{Conversation: proto.String(text)}, TimestampMS: proto.Int64(time.Now().UnixMilli()),
		},
	}}})
}

// Revoke makes the contact delete a message it sent, for everyone.
func (c *Contact) Revoke(ctx context.Context, k ports.WAMessageKey) (string, error) {
	if !k.FromMe {
		return "", fmt.Errorf("revoke %s: only the author deletes a message for everyone", k.ID)
	}
	return c.Send(ctx, k.Chat, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: targetKey(k),
	}})
}
