package whatsapp

import (
	"context"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// Actions on messages already sent or received (SPEC §6a), built with
// whatsmeow's helpers (WHATSAPP-SIM-FEATURES §1.2, §1.4–§1.7).

var _ ports.WAActions = (*Manager)(nil)

// keyJIDs parses the chat and the author of a message key; the author is
// empty for the instance's own messages, which whatsmeow keys as FromMe.
func keyJIDs(key ports.WAMessageKey) (chat, sender types.JID, err error) {
	chat, err = types.ParseJID(key.Chat)
	if err != nil || chat.User == "" || key.ID == "" {
		return chat, sender, ports.Errorf(ports.EInvalid, "the message key %q/%q is not usable", key.Chat, key.ID)
	}
	if !key.FromMe && key.Sender != "" {
		if sender, err = types.ParseJID(key.Sender); err != nil {
			return chat, sender, ports.Errorf(ports.EInvalid, "the message's author %q is not a JID", key.Sender)
		}
	}
	return chat, sender, nil
}

// sendAction sends a message that acts on another, under a fresh id.
func (m *Manager) sendAction(ctx context.Context, id ports.InstanceID, chat types.JID, op string, build func(*wa.Client) *waE2E.Message) error {
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	if _, err := cli.SendMessage(ctx, chat, build(cli)); err != nil {
		return sendError(op, err)
	}
	return nil
}

// React sets or ("" emoji) removes the instance's reaction.
func (m *Manager) React(ctx context.Context, id ports.InstanceID, key ports.WAMessageKey, emoji string) error {
	chat, sender, err := keyJIDs(key)
	if err != nil {
		return err
	}
	return m.sendAction(ctx, id, chat, "react", func(cli *wa.Client) *waE2E.Message {
		return cli.BuildReaction(chat, sender, types.MessageID(key.ID), emoji)
	})
}

// Edit replaces the text or caption of the instance's own message.
func (m *Manager) Edit(ctx context.Context, id ports.InstanceID, key ports.WAMessageKey, text string) error {
	chat, _, err := keyJIDs(key)
	if err != nil {
		return err
	}
	return m.sendAction(ctx, id, chat, "edit", func(cli *wa.Client) *waE2E.Message {
		return cli.BuildEdit(chat, types.MessageID(key.ID), &waE2E.Message{Conversation: proto.String(text)})
	})
}

// Revoke deletes the instance's own message for everyone.
func (m *Manager) Revoke(ctx context.Context, id ports.InstanceID, key ports.WAMessageKey) error {
	chat, _, err := keyJIDs(key)
	if err != nil {
		return err
	}
	return m.sendAction(ctx, id, chat, "revoke", func(cli *wa.Client) *waE2E.Message {
		return cli.BuildRevoke(chat, types.EmptyJID, types.MessageID(key.ID))
	})
}

// MarkRead sends one read receipt for received messages of one chat and
// author.
func (m *Manager) MarkRead(ctx context.Context, id ports.InstanceID, keys []ports.WAMessageKey, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	chat, sender, err := keyJIDs(keys[0])
	if err != nil {
		return err
	}
	ids := make([]types.MessageID, len(keys))
	for i, k := range keys {
		ids[i] = types.MessageID(k.ID)
	}
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	if err := cli.MarkRead(ctx, ids, at, chat, sender); err != nil {
		return sendError("mark read", err)
	}
	return nil
}

// SendChatPresence shows typing (composing), recording (composing audio)
// or paused in a chat.
func (m *Manager) SendChatPresence(ctx context.Context, id ports.InstanceID, chat string, p ports.ChatPresence) error {
	jid, err := types.ParseJID(chat)
	if err != nil || jid.User == "" {
		return ports.Errorf(ports.EInvalid, "the chat %q is not a JID", chat)
	}
	state, media := types.ChatPresenceComposing, types.ChatPresenceMediaText
	switch p {
	case ports.PresenceRecording:
		media = types.ChatPresenceMediaAudio
	case ports.PresencePaused:
		state = types.ChatPresencePaused
	}
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	if err := cli.SendChatPresence(ctx, jid, state, media); err != nil {
		return sendError("send chat presence", err)
	}
	return nil
}

// contextInfo is what a send carries about other messages and people: the
// quoted message of a reply, mentions, the forwarded mark. Nil when none.
func contextInfo(out ports.WAOutbound) *waE2E.ContextInfo {
	if out.ReplyTo == "" && len(out.Mentions) == 0 && !out.Forwarded {
		return nil
	}
	ci := &waE2E.ContextInfo{MentionedJID: out.Mentions}
	if out.ReplyTo != "" {
		ci.StanzaID = proto.String(out.ReplyTo)
		if q := out.Quoted; q != nil {
			ci.Participant = optString(q.Sender)
			ci.QuotedMessage = &waE2E.Message{Conversation: proto.String(q.Text)}
		}
	}
	if out.Forwarded {
		ci.IsForwarded, ci.ForwardingScore = proto.Bool(true), proto.Uint32(1)
	}
	return ci
}

// textMessage is a text with its context and, when one was fetched, the
// link preview (Title set makes whatsmeow send it as mediatype url).
func textMessage(out ports.WAOutbound, ci *waE2E.ContextInfo) *waE2E.Message {
	et := &waE2E.ExtendedTextMessage{Text: proto.String(out.Text), ContextInfo: ci}
	if p := out.Preview; p != nil && p.Title != "" {
		et.MatchedText, et.Title = proto.String(p.URL), proto.String(p.Title)
		et.Description = optString(p.Description)
		et.PreviewType = waE2E.ExtendedTextMessage_NONE.Enum()
		if len(p.Thumbnail) > 0 {
			et.JPEGThumbnail = p.Thumbnail
		}
	}
	return &waE2E.Message{ExtendedTextMessage: et}
}
