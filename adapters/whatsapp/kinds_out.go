package whatsapp

import (
	"strings"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// The protobuf messages of the kinds of SPEC §6a beyond the first five.

// moreMedia describes an uploaded video or sticker.
func moreMedia(out ports.WAOutbound, up wa.UploadResponse, quote *waE2E.ContextInfo) *waE2E.Message {
	md := out.Media
	if md.Kind == ports.MediaSticker {
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(md.MimeType), IsAnimated: proto.Bool(isAnimatedWebP(md.Data)), ContextInfo: quote,
		}}
	}
	vm := &waE2E.VideoMessage{
		URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
		FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
		Mimetype: proto.String(md.MimeType), Caption: optString(out.Caption), GifPlayback: proto.Bool(md.GIF), ContextInfo: quote,
	}
	// No thumbnail: the frames would need a video decoder (kinds_preview.go).
	if v := mp4Info(md.Data); v.Seconds > 0 || v.Width > 0 {
		vm.Seconds = optUint32(v.Seconds)
		vm.Width, vm.Height = optUint32(v.Width), optUint32(v.Height)
	}
	return &waE2E.Message{VideoMessage: vm}
}

func optUint32(n uint32) *uint32 {
	if n == 0 {
		return nil
	}
	return proto.Uint32(n)
}

// isAnimatedWebP reports whether a WebP file is animated: its extended
// header (VP8X) sets the animation flag. WhatsApp plays such a sticker.
func isAnimatedWebP(data []byte) bool {
	return len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0
}

// contactMessage shares one contact as a ContactMessage, several as a
// ContactsArrayMessage, as the phone apps do.
func contactMessage(cards []ports.ContactCard, quote *waE2E.ContextInfo) *waE2E.Message {
	msgs := make([]*waE2E.ContactMessage, len(cards))
	names := make([]string, len(cards))
	for i, c := range cards {
		msgs[i] = &waE2E.ContactMessage{DisplayName: proto.String(c.Name), Vcard: proto.String(buildVCard(c))}
		names[i] = c.Name
	}
	if len(msgs) == 1 {
		msgs[0].ContextInfo = quote
		return &waE2E.Message{ContactMessage: msgs[0]}
	}
	return &waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{
		DisplayName: proto.String(strings.Join(names, ", ")), Contacts: msgs, ContextInfo: quote,
	}}
}

// pollMessage builds the poll with whatsmeow, which adds the message
// secret that votes are encrypted with (and stores it when sending, so
// that the votes can be decrypted). 0 selectable options means any number.
func pollMessage(cli *wa.Client, p *ports.Poll, quote *waE2E.ContextInfo) *waE2E.Message {
	selectable := 1
	if p.MultipleAnswers {
		selectable = 0
	}
	msg := cli.BuildPollCreation(p.Question, p.Options, selectable)
	msg.PollCreationMessage.ContextInfo = quote
	return msg
}
