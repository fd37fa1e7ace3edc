package httpgin

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The sandbox's contacts send every kind and vote on polls (SPEC §15a).

// phoneSend checks what a contact is to send, by type, and converts it.
func phoneSend(req inboundReq, maxMedia int64) (ports.PhoneSend, error) {
	m := ports.PhoneSend{Type: ports.MessageType(req.Type), Text: req.Text, Caption: req.Caption}
	bad := func(field, msg string) (ports.PhoneSend, error) {
		return m, ports.InvalidFields(ports.FieldError{Field: field, Message: msg})
	}
	if fe := ports.CheckText("caption", req.Caption, messaging.MaxCaptionLen); fe != nil {
		return m, ports.InvalidFields(*fe)
	}
	switch m.Type {
	case ports.MessageText:
		return m, nil
	case ports.MessageLocation:
		if req.Latitude == nil || req.Longitude == nil || *req.Latitude < -90 || *req.Latitude > 90 || *req.Longitude < -180 || *req.Longitude > 180 {
			return bad("latitude", "latitude (-90 to 90) and longitude (-180 to 180) are required")
		}
		m.Location = &ports.WALocation{Latitude: *req.Latitude, Longitude: *req.Longitude}
		return m, nil
	case ports.MessageContact:
		m.Contacts = contactCards(req.Contacts)
		return m, messaging.CheckContacts(m.Contacts)
	case ports.MessagePoll:
		if req.Poll == nil {
			return bad("poll", "is required: {question, options}")
		}
		m.Poll = &ports.Poll{Question: req.Poll.Question, Options: req.Poll.Options, MultipleAnswers: req.Poll.MultipleAnswers}
		return m, messaging.CheckPoll("poll.", req.Poll.Question, req.Poll.Options)
	case ports.MessageImage, ports.MessageVideo, ports.MessageAudio, ports.MessageDocument, ports.MessageSticker:
		return phoneMedia(m, req.Media, maxMedia)
	}
	return bad("type", "must be one of text, image, video, audio, document, sticker, location, contact, poll")
}

// phoneMedia decodes the file a contact sends; its type is the
// contact's to claim (a phone may send anything).
func phoneMedia(m ports.PhoneSend, md *mediaReq, maxMedia int64) (ports.PhoneSend, error) {
	if md == nil || md.Base64 == nil || md.URL != nil {
		return m, ports.InvalidFields(ports.FieldError{Field: "media", Message: "is required: {base64, mimeType, filename?}"})
	}
	if int64(len(*md.Base64)) > maxMedia/3*4+4 {
		return m, tooLarge(maxMedia)
	}
	data, err := decodeBase64(*md.Base64)
	if err != nil || len(data) == 0 {
		return m, ports.InvalidFields(ports.FieldError{Field: "media.base64", Message: "must be non-empty base64 (RFC 4648)"})
	}
	if md.MimeType == "" {
		return m, ports.InvalidFields(ports.FieldError{Field: "media.mimeType", Message: "is required"})
	}
	if err := ports.FieldErrors(ports.CheckText("media.mimeType", md.MimeType, 128), ports.CheckText("media.filename", md.FileName, 255)); err != nil {
		return m, err
	}
	m.Media = &ports.PhoneFile{Data: data, MimeType: md.MimeType, FileName: md.FileName,
		PTT: m.Type == ports.MessageAudio && md.MimeType == "audio/ogg; codecs=opus"}
	return m, nil
}

type voteReq struct {
	From      string   `json:"from"`
	MessageID string   `json:"messageId"`
	Selected  []string `json:"selected"`
}

// sandboxVote makes a contact vote on one of the instance's polls.
func (a *api) sandboxVote(c *gin.Context) {
	var req voteReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if fe := checkFrom(&req.From); fe != nil {
		a.fail(c, ports.InvalidFields(*fe))
		return
	}
	inst, err := a.connectedInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !isUUID(req.MessageID) {
		a.fail(c, ports.Errorf(ports.ENotFound, "no such message"))
		return
	}
	m, err := a.svc.Messaging.Get(ctx(c), principal(c), inst.ID, ports.MessageID(req.MessageID))
	if err != nil {
		a.fail(c, err)
		return
	}
	if m.Poll == nil || m.Direction != ports.DirectionOutbound || m.WAMessageID == "" {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "messageId", Message: "must be a poll the instance sent"}))
		return
	}
	for _, s := range req.Selected {
		if !slices.Contains(m.Poll.Options, s) {
			a.fail(c, ports.InvalidFields(ports.FieldError{Field: "selected", Message: "must name options of the poll"}))
			return
		}
	}
	if len(req.Selected) > 1 && !m.Poll.MultipleAnswers {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "selected", Message: "the poll takes one answer"}))
		return
	}
	if err := a.opt.Sandbox.ContactVote(ctx(c), req.From, inst.PhoneNumber, m.WAMessageID, req.Selected); err != nil {
		a.fail(c, ports.ReasonError(ports.EConflict, "poll_not_received", "the simulated contact cannot vote: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, inboundResp{Status: "sent"})
}
