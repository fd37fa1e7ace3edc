package whatsapp

import (
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/ports"
)

// inboundAction reads a contact's reaction, edit or deletion for
// everyone (WHATSAPP-SIM-FEATURES §1.2, §1.4, §1.5): whatsmeow delivers
// each as an events.Message; nil for a message of its own.
func inboundAction(evt *events.Message) *ports.WAInboundAction {
	msg := evt.Message
	if r := msg.GetReactionMessage(); r != nil {
		return &ports.WAInboundAction{Target: targetKey(r.GetKey(), evt), Emoji: r.GetText()}
	}
	pm := msg.GetProtocolMessage()
	switch {
	case pm == nil:
		return nil
	case pm.GetType() == waE2E.ProtocolMessage_REVOKE:
		return &ports.WAInboundAction{Target: targetKey(pm.GetKey(), evt), Revoked: true}
	case pm.GetType() == waE2E.ProtocolMessage_MESSAGE_EDIT:
		return &ports.WAInboundAction{Target: targetKey(pm.GetKey(), evt), Edited: true, Text: editedText(pm.GetEditedMessage())}
	}
	return nil
}

// targetKey is the acted-on message as the instance knows it: FromMe in
// the key is from the actor's side, so a contact's key marked FromMe names
// the contact's own message.
func targetKey(k *waCommon.MessageKey, evt *events.Message) ports.WAMessageKey {
	key := ports.WAMessageKey{Chat: evt.Info.Chat.String(), ID: k.GetID(), FromMe: !k.GetFromMe()}
	if k.GetFromMe() {
		key.Sender = evt.Info.Sender.ToNonAD().String()
	} else if k.GetParticipant() != "" {
		key.Sender = k.GetParticipant()
	}
	return key
}

// editedText is the new text of an edit: a text's, or a caption's.
func editedText(m *waE2E.Message) string {
	switch {
	case m.GetConversation() != "":
		return m.GetConversation()
	case m.GetExtendedTextMessage() != nil:
		return m.GetExtendedTextMessage().GetText()
	case m.GetImageMessage() != nil:
		return m.GetImageMessage().GetCaption()
	case m.GetVideoMessage() != nil:
		return m.GetVideoMessage().GetCaption()
	case m.GetDocumentMessage() != nil:
		return m.GetDocumentMessage().GetCaption()
	}
	return ""
}

// contextOf returns the mentions and forwarded mark of a message's
// context, whichever kind carries it.
func contextOf(m *waE2E.Message) (mentions []string, forwarded bool) {
	var ci *waE2E.ContextInfo
	for _, c := range []*waE2E.ContextInfo{
		m.GetExtendedTextMessage().GetContextInfo(), m.GetImageMessage().GetContextInfo(),
		m.GetVideoMessage().GetContextInfo(), m.GetDocumentMessage().GetContextInfo(),
		m.GetAudioMessage().GetContextInfo(), m.GetLocationMessage().GetContextInfo(),
		m.GetStickerMessage().GetContextInfo(), m.GetContactMessage().GetContextInfo(),
	} {
		if c != nil {
			ci = c
			break
		}
	}
	return ci.GetMentionedJID(), ci.GetIsForwarded()
}
