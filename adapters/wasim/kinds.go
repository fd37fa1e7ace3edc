package wasim

import (
	"go.mau.fi/whatsmeow/proto/waE2E"
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
		r.Media = s.openMedia(im, mediaImage)
	case m.GetVideoMessage() != nil:
		vm := m.GetVideoMessage()
		r.Type, r.Caption, r.MimeType, r.QuotedID = "video", vm.GetCaption(), vm.GetMimetype(), vm.GetContextInfo().GetStanzaID()
		r.Media = s.openMedia(vm, mediaVideo)
	case m.GetAudioMessage() != nil:
		am := m.GetAudioMessage()
		r.Type, r.MimeType, r.PTT, r.QuotedID = "audio", am.GetMimetype(), am.GetPTT(), am.GetContextInfo().GetStanzaID()
		r.Media = s.openMedia(am, mediaAudio)
	case m.GetDocumentMessage() != nil:
		dm := m.GetDocumentMessage()
		r.Type, r.Caption, r.MimeType, r.FileName, r.QuotedID = "document", dm.GetCaption(), dm.GetMimetype(), dm.GetFileName(), dm.GetContextInfo().GetStanzaID()
		r.Media = s.openMedia(dm, mediaDocument)
	}
}
