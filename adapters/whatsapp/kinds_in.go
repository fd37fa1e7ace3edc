package whatsapp

import (
	"context"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/wagate/wagate/ports"
)

// moreKinds fills in the kinds of SPEC §6a beyond the first five, and
// names any other kind by its field (RawType) so that it is stored as
// unsupported rather than dropped. False only for what carries no content
// for a person: protocol and key-distribution messages.
func (s *session) moreKinds(ctx context.Context, cli *wa.Client, msg *waE2E.Message, in *ports.WAInbound) bool {
	switch {
	case msg.VideoMessage != nil:
		m := msg.VideoMessage
		in.Caption, in.ReplyTo = m.GetCaption(), m.GetContextInfo().GetStanzaID()
		in.Media = &ports.WAMedia{Kind: ports.MediaVideo, MimeType: m.GetMimetype(), GIF: m.GetGifPlayback()}
		in.Media.Data = s.download(ctx, cli, m)
	case msg.StickerMessage != nil:
		m := msg.StickerMessage
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		in.Media = &ports.WAMedia{Kind: ports.MediaSticker, MimeType: m.GetMimetype()}
		in.Media.Data = s.download(ctx, cli, m)
	case msg.ContactMessage != nil:
		m := msg.ContactMessage
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		in.Contacts = []ports.ContactCard{parseVCard(m.GetVcard(), m.GetDisplayName())}
	case msg.ContactsArrayMessage != nil:
		m := msg.ContactsArrayMessage
		in.ReplyTo = m.GetContextInfo().GetStanzaID()
		for _, c := range m.GetContacts() {
			in.Contacts = append(in.Contacts, parseVCard(c.GetVcard(), c.GetDisplayName()))
		}
	case pollCreation(msg) != nil:
		p := pollCreation(msg)
		in.ReplyTo = p.GetContextInfo().GetStanzaID()
		in.Poll = &ports.Poll{Question: p.GetName(), MultipleAnswers: p.GetSelectableOptionsCount() != 1}
		for _, o := range p.GetOptions() {
			in.Poll.Options = append(in.Poll.Options, o.GetOptionName())
		}
	default:
		in.RawType = rawType(msg)
		return in.RawType != ""
	}
	return true
}

// pollCreation is the poll of any of its versions (whatsmeow builds v1;
// phones send v3 too).
func pollCreation(msg *waE2E.Message) *waE2E.PollCreationMessage {
	for _, p := range []*waE2E.PollCreationMessage{msg.PollCreationMessage, msg.PollCreationMessageV2, msg.PollCreationMessageV3} {
		if p != nil {
			return p
		}
	}
	return nil
}

// notContent are the fields that ride along with content or keep the
// protocol going; a message with nothing else is no message for a person.
var notContent = map[protoreflect.Name]bool{
	"messageContextInfo": true, "senderKeyDistributionMessage": true, "protocolMessage": true,
	"fastRatchetKeySenderKeyDistributionMessage": true,
}

// rawType is the name of the first content field set in msg (as in
// WhatsApp's protobuf JSON, e.g. "eventMessage"); "" if there is none.
func rawType(msg *waE2E.Message) string {
	name := ""
	msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if n := protoreflect.Name(fd.JSONName()); !notContent[n] {
			name = string(n)
			return false
		}
		return true
	})
	return name
}

// pollVote decrypts a contact's vote with the poll's secret, which
// whatsmeow stored when the poll was sent; a vote that does not decrypt
// (a poll sent from another device before this one was linked) is logged
// and dropped: there is nothing to count.
func (s *session) pollVote(ctx context.Context, cli *wa.Client, evt *events.Message) []ports.WAEvent {
	if evt.Info.IsFromMe {
		return nil
	}
	vote, err := cli.DecryptPollVote(ctx, evt)
	if err != nil {
		s.m.log.Warn("decrypt poll vote", "instance", string(s.id), "err", err)
		return nil
	}
	pv := &ports.WAPollVote{
		Chat: evt.Info.Chat.String(), From: evt.Info.Sender.ToNonAD().String(),
		PollWAID:  evt.Message.GetPollUpdateMessage().GetPollCreationMessageKey().GetID(),
		Selected:  vote.GetSelectedOptions(),
		Timestamp: evt.Info.Timestamp,
	}
	return []ports.WAEvent{{Instance: s.id, Kind: ports.WAPollVoteKind, At: s.m.now(), PollVote: pv}}
}
