package wasim

import (
	"go.mau.fi/whatsmeow/proto/waE2E"

	"github.com/wagate/wagate/ports"
)

// fill copies the parts tests assert on from a decrypted message, and names
// its kind as wagate does. A message of no modelled kind keeps the type
// "unsupported", so the phone's record still shows it arrived.
func (s *Server) fill(r *Received, m *waE2E.Message) {
	r.Type = "unsupported"
	switch {
	case m.GetConversation() != "":
		r.Type, r.Text = "text", m.GetConversation()
	case m.GetExtendedTextMessage() != nil:
		et := m.GetExtendedTextMessage()
		r.Type, r.Text, r.QuotedID = "text", et.GetText(), et.GetContextInfo().GetStanzaID()
	case m.GetLocationMessage() != nil:
		loc := m.GetLocationMessage()
		r.Type = "location"
		r.Location = &Location{Latitude: loc.GetDegreesLatitude(), Longitude: loc.GetDegreesLongitude(),
			Name: loc.GetName(), Address: loc.GetAddress()}
	case m.GetImageMessage() != nil:
		im := m.GetImageMessage()
		r.Type, r.Caption, r.MimeType, r.QuotedID = "image", im.GetCaption(), im.GetMimetype(), im.GetContextInfo().GetStanzaID()
		r.Width, r.Height, r.Thumbnail = im.GetWidth(), im.GetHeight(), im.GetJPEGThumbnail()
		r.Media = s.openMedia(im, mediaImage)
	case m.GetVideoMessage() != nil:
		vm := m.GetVideoMessage()
		r.Type, r.Caption, r.MimeType, r.QuotedID = "video", vm.GetCaption(), vm.GetMimetype(), vm.GetContextInfo().GetStanzaID()
		r.GIF, r.Seconds = vm.GetGifPlayback(), vm.GetSeconds()
		r.Width, r.Height, r.Thumbnail = vm.GetWidth(), vm.GetHeight(), vm.GetJPEGThumbnail()
		r.Media = s.openMedia(vm, mediaVideo)
	case m.GetAudioMessage() != nil:
		am := m.GetAudioMessage()
		r.Type, r.MimeType, r.PTT, r.QuotedID = "audio", am.GetMimetype(), am.GetPTT(), am.GetContextInfo().GetStanzaID()
		r.Seconds, r.Waveform = am.GetSeconds(), am.GetWaveform()
		r.Media = s.openMedia(am, mediaAudio)
	case m.GetDocumentMessage() != nil:
		dm := m.GetDocumentMessage()
		r.Type, r.Caption, r.MimeType, r.FileName, r.QuotedID = "document", dm.GetCaption(), dm.GetMimetype(), dm.GetFileName(), dm.GetContextInfo().GetStanzaID()
		r.Media = s.openMedia(dm, mediaDocument)
	default:
		fillMore(s, r, m)
	}
}

// fillMore reads the kinds of SPEC §6a beyond the first five.
func fillMore(s *Server, r *Received, m *waE2E.Message) {
	switch {
	case m.GetStickerMessage() != nil:
		sm := m.GetStickerMessage()
		r.Type, r.MimeType, r.Animated, r.QuotedID = "sticker", sm.GetMimetype(), sm.GetIsAnimated(), sm.GetContextInfo().GetStanzaID()
		r.Media = s.openMedia(sm, mediaImage) // stickers use the image keys
	case m.GetContactMessage() != nil:
		cm := m.GetContactMessage()
		r.Type, r.QuotedID = "contact", cm.GetContextInfo().GetStanzaID()
		r.Contacts = []ports.PhoneContact{{Name: cm.GetDisplayName(), VCard: cm.GetVcard()}}
	case m.GetContactsArrayMessage() != nil:
		r.Type = "contact"
		for _, cm := range m.GetContactsArrayMessage().GetContacts() {
			r.Contacts = append(r.Contacts, ports.PhoneContact{Name: cm.GetDisplayName(), VCard: cm.GetVcard()})
		}
	case m.GetPollCreationMessage() != nil:
		pm := m.GetPollCreationMessage()
		r.Type = "poll"
		r.Poll = &ports.Poll{Question: pm.GetName(), MultipleAnswers: pm.GetSelectableOptionsCount() != 1}
		for _, o := range pm.GetOptions() {
			r.Poll.Options = append(r.Poll.Options, o.GetOptionName())
		}
	}
}
