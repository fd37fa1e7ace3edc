package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// loggedIn returns the instance's client if it is logged in.
func (m *Manager) loggedIn(id ports.InstanceID) (*wa.Client, error) {
	if s := m.existing(id); s != nil {
		if cli := s.connectedClient(); cli != nil {
			return cli, nil
		}
	}
	return nil, ports.ErrNotConnected()
}

// sendError translates whatsmeow's errors at the boundary.
func sendError(op string, err error) error {
	switch {
	case errors.Is(err, wa.ErrNotConnected), errors.Is(err, wa.ErrNotLoggedIn):
		return ports.ErrNotConnected()
	case errors.Is(err, wa.ErrRecipientADJID), errors.Is(err, wa.ErrUnknownServer):
		return ports.Errorf(ports.EInvalid, "%s: %v", op, err)
	}
	return ports.Errorf(ports.EUnavailable, "%s: %v", op, err)
}

// CheckNumbers asks WhatsApp which numbers have an account.
func (m *Manager) CheckNumbers(ctx context.Context, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return nil, err
	}
	query := make([]string, len(phones))
	for i, p := range phones {
		query[i] = "+" + strings.TrimPrefix(p, "+")
	}
	found, err := cli.IsOnWhatsApp(ctx, query)
	if err != nil {
		return nil, sendError("check numbers", err)
	}
	byQuery := make(map[string]types.IsOnWhatsAppResponse, len(found))
	for _, r := range found {
		byQuery[strings.TrimPrefix(r.Query, "+")] = r
	}
	out := make([]ports.NumberCheck, len(phones))
	for i, p := range phones {
		digits := strings.TrimPrefix(p, "+")
		out[i] = ports.NumberCheck{PhoneNumber: digits}
		if r, ok := byQuery[digits]; ok && r.IsIn {
			out[i].Exists = true
			out[i].JID = r.JID.String()
		}
	}
	return out, nil
}

// Send sends one message; media is uploaded first. out.ID, when set, is
// the message's id on the wire, so that a resend carries the same one and
// the recipient's phone drops it as a repeat.
func (m *Manager) Send(ctx context.Context, id ports.InstanceID, out ports.WAOutbound) (ports.WASent, error) {
	to, err := types.ParseJID(out.To)
	if err != nil || to.User == "" {
		return ports.WASent{}, ports.Errorf(ports.EInvalid, "the recipient %q is not a JID", out.To)
	}
	cli, err := m.loggedIn(id)
	if err != nil {
		return ports.WASent{}, err
	}
	if err := checkRecipient(ctx, cli, to); err != nil {
		return ports.WASent{}, err
	}
	msg, err := message(ctx, cli, out)
	if err != nil {
		return ports.WASent{}, err
	}
	resp, err := cli.SendMessage(ctx, to, msg, wa.SendRequestExtra{ID: types.MessageID(out.ID)})
	if err != nil {
		return ports.WASent{}, sendError("send message", err)
	}
	return ports.WASent{WAMessageID: resp.ID, Timestamp: resp.Timestamp}, nil
}

// checkRecipient refuses a user without devices: such a number is not on
// WhatsApp, and the send would succeed with nobody to deliver to. The
// device list is cached by whatsmeow, and the send needs it anyway.
func checkRecipient(ctx context.Context, cli *wa.Client, to types.JID) error {
	if to.Server != types.DefaultUserServer && to.Server != types.HiddenUserServer {
		return nil
	}
	devices, err := cli.GetUserDevices(ctx, []types.JID{to})
	if err != nil {
		return sendError("look up the recipient", err)
	}
	if len(devices) == 0 {
		return ports.ReasonError(ports.EInvalid, "recipient_not_on_whatsapp", "the recipient "+to.User+" is not on WhatsApp")
	}
	return nil
}

// message builds the protobuf message of out.
func message(ctx context.Context, cli *wa.Client, out ports.WAOutbound) (*waE2E.Message, error) {
	quote := contextInfo(out)
	switch {
	case out.Media != nil:
		return mediaMessage(ctx, cli, out, quote)
	case len(out.Contacts) > 0:
		return contactMessage(out.Contacts, quote), nil
	case out.Poll != nil:
		return pollMessage(cli, out.Poll, quote), nil
	case out.Location != nil:
		l := out.Location
		return &waE2E.Message{LocationMessage: &waE2E.LocationMessage{
			DegreesLatitude: proto.Float64(l.Latitude), DegreesLongitude: proto.Float64(l.Longitude),
			Name: optString(l.Name), Address: optString(l.Address), ContextInfo: quote,
		}}, nil
	case out.Text != "":
		return textMessage(out, quote), nil
	}
	return nil, ports.Errorf(ports.EInvalid, "the message has no text, media or location")
}

// mediaMessage uploads the file and describes it for the recipient, who
// downloads it with the key in the message.
func mediaMessage(ctx context.Context, cli *wa.Client, out ports.WAOutbound, quote *waE2E.ContextInfo) (*waE2E.Message, error) {
	md := out.Media
	kind, ok := map[ports.WAMediaKind]wa.MediaType{
		ports.MediaImage: wa.MediaImage, ports.MediaDocument: wa.MediaDocument, ports.MediaAudio: wa.MediaAudio,
		ports.MediaVideo: wa.MediaVideo, ports.MediaSticker: wa.MediaImage, // stickers use the image keys
	}[md.Kind]
	if !ok {
		return nil, ports.Errorf(ports.EUnsupported, "media kind %q is not supported", md.Kind)
	}
	up, err := cli.Upload(ctx, md.Data, kind)
	if err != nil {
		return nil, sendError(fmt.Sprintf("upload %s", md.Kind), err)
	}
	length := proto.Uint64(up.FileLength)
	switch md.Kind {
	case ports.MediaVideo, ports.MediaSticker:
		return moreMedia(out, up, quote), nil
	case ports.MediaImage:
		im := &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length,
			Mimetype: proto.String(md.MimeType), Caption: optString(out.Caption), ContextInfo: quote,
		}
		if w, h, thumb := imageInfo(md.Data); w > 0 {
			im.Width, im.Height, im.JPEGThumbnail = proto.Uint32(w), proto.Uint32(h), thumb
		}
		return &waE2E.Message{ImageMessage: im}, nil
	case ports.MediaDocument:
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length,
			Mimetype: proto.String(md.MimeType), Caption: optString(out.Caption),
			FileName: optString(md.FileName), ContextInfo: quote,
		}}, nil
	default:
		am := &waE2E.AudioMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length,
			Mimetype: proto.String(md.MimeType), PTT: proto.Bool(md.PTT), ContextInfo: quote,
		}
		if secs, wave := voiceInfo(md.Data); secs > 0 {
			am.Seconds, am.Waveform = proto.Uint32(secs), wave
		}
		return &waE2E.Message{AudioMessage: am}, nil
	}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}
