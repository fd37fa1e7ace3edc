package wasim

import (
	"context"
	"fmt"
	"strings"

	"go.mau.fi/util/random"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// ContactSend makes the contact `from` send a message of any kind to `to`
// and returns its WhatsApp id.
func (s *Server) ContactSend(ctx context.Context, from, to string, m ports.PhoneSend) (string, error) {
	c := s.Contact(from)
	msg, err := c.build(m)
	if err != nil {
		return "", err
	}
	return c.Send(ctx, to, msg)
}

// build turns what to send into WhatsApp's message, uploading a file
// encrypted as a phone does.
func (c *Contact) build(m ports.PhoneSend) (*waE2E.Message, error) {
	switch m.Type {
	case ports.MessageText, "":
		return &waE2E.Message{Conversation: proto.String(m.Text)}, nil
	case ports.MessageLocation:
		if m.Location == nil {
			return nil, fmt.Errorf("a location message needs a location")
		}
		l := m.Location
		return &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(l.Latitude),
			DegreesLongitude: proto.Float64(l.Longitude), Name: optStr(l.Name), Address: optStr(l.Address)}}, nil
	case ports.MessageContact:
		return contactsMessage(m.Contacts), nil
	case ports.MessagePoll:
		if m.Poll == nil {
			return nil, fmt.Errorf("a poll message needs a poll")
		}
		return pollCreation(m.Poll), nil
	}
	if m.Media == nil {
		return nil, fmt.Errorf("a %s message needs media", m.Type)
	}
	return c.s.mediaMessage(m)
}

// mediaMessage uploads the file and describes it for the recipient.
func (s *Server) mediaMessage(m ports.PhoneSend) (*waE2E.Message, error) {
	kind := map[ports.MessageType]whatsmeow.MediaType{ports.MessageImage: mediaImage, ports.MessageSticker: mediaImage,
		ports.MessageVideo: mediaVideo, ports.MessageAudio: mediaAudio, ports.MessageDocument: mediaDocument}[m.Type]
	if kind == "" {
		return nil, fmt.Errorf("cannot send a message of type %q", m.Type)
	}
	f := m.Media
	up, err := s.sealMedia(f.Data, kind)
	if err != nil {
		return nil, err
	}
	url, path, mime, n := proto.String(up.url), proto.String(up.directPath), proto.String(f.MimeType), proto.Uint64(up.length)
	switch m.Type {
	case ports.MessageImage:
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{URL: url, DirectPath: path, MediaKey: up.mediaKey, Mimetype: mime,
			FileEncSHA256: up.fileEncSHA, FileSHA256: up.fileSHA, FileLength: n, Caption: optStr(m.Caption)}}, nil
	case ports.MessageSticker:
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{URL: url, DirectPath: path, MediaKey: up.mediaKey, Mimetype: mime,
			FileEncSHA256: up.fileEncSHA, FileSHA256: up.fileSHA, FileLength: n}}, nil
	case ports.MessageVideo:
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{URL: url, DirectPath: path, MediaKey: up.mediaKey, Mimetype: mime,
			FileEncSHA256: up.fileEncSHA, FileSHA256: up.fileSHA, FileLength: n, Caption: optStr(m.Caption), GifPlayback: proto.Bool(f.GIF)}}, nil
	case ports.MessageAudio:
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{URL: url, DirectPath: path, MediaKey: up.mediaKey, Mimetype: mime,
			FileEncSHA256: up.fileEncSHA, FileSHA256: up.fileSHA, FileLength: n, PTT: proto.Bool(f.PTT)}}, nil
	}
	return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{URL: url, DirectPath: path, MediaKey: up.mediaKey, Mimetype: mime,
		FileEncSHA256: up.fileEncSHA, FileSHA256: up.fileSHA, FileLength: n, Caption: optStr(m.Caption), FileName: optStr(f.FileName)}}, nil
}

// contactsMessage shares contacts as a phone does: one as a
// ContactMessage, several as a ContactsArrayMessage.
func contactsMessage(cards []ports.ContactCard) *waE2E.Message {
	msgs := make([]*waE2E.ContactMessage, len(cards))
	for i, c := range cards {
		msgs[i] = &waE2E.ContactMessage{DisplayName: proto.String(c.Name), Vcard: proto.String(phoneVCard(c))}
	}
	if len(msgs) == 1 {
		return &waE2E.Message{ContactMessage: msgs[0]}
	}
	return &waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{
		DisplayName: proto.String(fmt.Sprintf("%d contacts", len(msgs))), Contacts: msgs}}
}

// phoneVCard is the card a phone app writes (vCard 3.0, values escaped).
func phoneVCard(c ports.ContactCard) string {
	esc := strings.NewReplacer(`\`, `\\`, "\n", `\n`, ",", `\,`, ";", `\;`).Replace
	lines := []string{"BEGIN:VCARD", "VERSION:3.0", "FN:" + esc(c.Name)}
	if c.Organization != "" {
		lines = append(lines, "ORG:"+esc(c.Organization))
	}
	for _, p := range c.Phones {
		lines = append(lines, "item1.TEL;type="+esc(p.Type)+":"+esc(p.Number))
	}
	if c.Email != "" {
		lines = append(lines, "EMAIL;type=INTERNET:"+esc(c.Email))
	}
	return strings.Join(append(lines, "END:VCARD"), "\n")
}

// pollCreation is a poll with its message secret, as whatsmeow's
// BuildPollCreation makes it: without the secret nobody can vote.
func pollCreation(p *ports.Poll) *waE2E.Message {
	selectable := uint32(1)
	if p.MultipleAnswers {
		selectable = 0
	}
	opts := make([]*waE2E.PollCreationMessage_Option, len(p.Options))
	for i, o := range p.Options {
		opts[i] = &waE2E.PollCreationMessage_Option{OptionName: proto.String(o)}
	}
	return &waE2E.Message{
		PollCreationMessage: &waE2E.PollCreationMessage{Name: proto.String(p.Question), Options: opts, SelectableOptionsCount: proto.Uint32(selectable)},
		MessageContextInfo:  &waE2E.MessageContextInfo{MessageSecret: random.Bytes(32)},
	}
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}
