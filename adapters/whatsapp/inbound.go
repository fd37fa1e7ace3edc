package whatsapp

import (
	"context"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/ports"
)

// content maps an inbound message or a receipt; kinds the gateway does not
// carry (protocol messages, reactions, own-device receipts) map to nothing.
func (s *session) content(ctx context.Context, cli *wa.Client, evt any) []ports.WAEvent {
	switch evt := evt.(type) {
	case *events.Message:
		if evt.Message.GetPollUpdateMessage() != nil {
			return s.pollVote(ctx, cli, evt)
		}
		in := s.inbound(ctx, cli, evt)
		if in == nil {
			return nil
		}
		return []ports.WAEvent{{Instance: s.id, Kind: ports.WAMessage, At: s.m.now(), Message: in}}
	case *events.Receipt:
		r := receipt(ctx, cli, evt)
		if r == nil {
			return nil
		}
		return []ports.WAEvent{{Instance: s.id, Kind: ports.WAReceipt, At: s.m.now(), Receipt: r}}
	}
	return nil
}

// inbound converts a message received from someone else.
func (s *session) inbound(ctx context.Context, cli *wa.Client, evt *events.Message) *ports.WAInbound {
	info := evt.Info
	// Status updates (status@broadcast) pass, for the instance's
	// ignoreStatusBroadcasts setting to decide (core/contacts); no other
	// broadcast chat reaches a recipient, who gets a list's messages as
	// direct ones.
	if info.IsFromMe || info.Chat.Server == types.BroadcastServer && info.Chat != types.StatusBroadcastJID {
		return nil
	}
	from, fromLID := phoneOf(ctx, cli, info.Sender, info.SenderAlt)
	chat, chatLID := from, fromLID
	if info.IsGroup {
		chat, chatLID = phoneOf(ctx, cli, info.Chat, types.EmptyJID)
	}
	in := &ports.WAInbound{
		WAMessageID: info.ID,
		Chat:        chat.String(),
		ChatLID:     jidString(chatLID),
		From:        from.String(),
		FromLID:     jidString(fromLID),
		PushName:    info.PushName,
		Timestamp:   info.Timestamp,
	}
	if in.Action = inboundAction(evt); in.Action != nil {
		return in
	}
	if !s.body(ctx, cli, evt.Message, in) {
		return nil
	}
	in.Mentions, in.IsForwarded = contextOf(evt.Message)
	return in
}

// body fills in the message content; false for a kind not carried.
func (s *session) body(ctx context.Context, cli *wa.Client, msg *waE2E.Message, in *ports.WAInbound) bool {
	switch {
	case msg.GetConversation() != "":
		in.Text = msg.GetConversation()
	case msg.ExtendedTextMessage != nil:
		m := msg.ExtendedTextMessage
		in.Text = m.GetText()
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
	case msg.ImageMessage != nil:
		m := msg.ImageMessage
		in.Caption = m.GetCaption()
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		in.Media = &ports.WAMedia{Kind: ports.MediaImage, MimeType: m.GetMimetype()}
		in.Media.Data = s.download(ctx, cli, m)
	case msg.DocumentMessage != nil:
		m := msg.DocumentMessage
		in.Caption = m.GetCaption()
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		in.Media = &ports.WAMedia{Kind: ports.MediaDocument, MimeType: m.GetMimetype(), FileName: m.GetFileName()}
		in.Media.Data = s.download(ctx, cli, m)
	case msg.AudioMessage != nil:
		m := msg.AudioMessage
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		in.Media = &ports.WAMedia{Kind: ports.MediaAudio, MimeType: m.GetMimetype(), PTT: m.GetPTT()}
		in.Media.Data = s.download(ctx, cli, m)
	case msg.LocationMessage != nil:
		m := msg.LocationMessage
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		in.Location = &ports.WALocation{
			Latitude: m.GetDegreesLatitude(), Longitude: m.GetDegreesLongitude(),
			Name: m.GetName(), Address: m.GetAddress(),
		}
	default:
		return s.moreKinds(ctx, cli, msg, in)
	}
	return true
}

// download fetches and decrypts a message's media. On failure the message
// is still delivered, without the bytes: its text and metadata are worth
// more than nothing, and WhatsApp does not redeliver.
func (s *session) download(ctx context.Context, cli *wa.Client, m wa.DownloadableMessage) []byte {
	data, err := cli.Download(ctx, m)
	if err != nil {
		s.m.log.Warn("download inbound media", "instance", string(s.id), "err", err)
		return nil
	}
	return data
}

// receipt converts a delivery or read receipt from a contact.
func receipt(ctx context.Context, cli *wa.Client, evt *events.Receipt) *ports.WAReceiptEvent {
	var typ ports.WAReceiptType
	switch evt.Type {
	case types.ReceiptTypeDelivered:
		typ = ports.ReceiptDelivered
	case types.ReceiptTypeRead:
		typ = ports.ReceiptRead
	default:
		return nil
	}
	if evt.IsFromMe {
		return nil
	}
	from, chatLID := phoneOf(ctx, cli, evt.Sender, evt.SenderAlt)
	chat := from
	if evt.IsGroup {
		chat, chatLID = phoneOf(ctx, cli, evt.Chat, types.EmptyJID)
	}
	return &ports.WAReceiptEvent{
		Chat:        chat.String(),
		ChatLID:     jidString(chatLID),
		From:        from.String(),
		Type:        typ,
		WAMessageID: append([]string(nil), evt.MessageIDs...),
		Timestamp:   evt.Timestamp,
	}
}
