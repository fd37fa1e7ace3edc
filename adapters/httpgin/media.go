package httpgin

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/adapters/safehttp"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The media routes of SPEC §6: POST /messages/{image,document,audio} as
// JSON ({media:{url}} or {media:{base64,…}}) or multipart/form-data (a
// file part and the same fields), and GET /messages/{id}/media.

// mediaReq is the media object of a JSON send: exactly one of URL and
// Base64 (the core checks which).
type mediaReq struct {
	URL      *string `json:"url"`
	Base64   *string `json:"base64"`
	MimeType string  `json:"mimeType"`
	FileName string  `json:"filename"`
}

// sendMediaReq is the body of the three routes; fields a kind does not
// take (a caption on audio, a filename on an image) are refused as
// unknown, as the strict decoder does on the other routes.
type sendMediaReq struct {
	To       string    `json:"to"`
	Caption  *string   `json:"caption"`
	FileName *string   `json:"filename"`
	PTT      *bool     `json:"ptt"`
	GIF      *bool     `json:"gif"`
	Media    *mediaReq `json:"media"`
	replyReq
}

func (a *api) sendImage(c *gin.Context)    { a.sendMedia(c, ports.MediaImage) }
func (a *api) sendDocument(c *gin.Context) { a.sendMedia(c, ports.MediaDocument) }
func (a *api) sendAudio(c *gin.Context)    { a.sendMedia(c, ports.MediaAudio) }
func (a *api) sendVideo(c *gin.Context)    { a.sendMedia(c, ports.MediaVideo) }
func (a *api) sendSticker(c *gin.Context)  { a.sendMedia(c, ports.MediaSticker) }

func (a *api) sendMedia(c *gin.Context, kind ports.WAMediaKind) {
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	req, data, err := a.readMediaRequest(c)
	if err == nil {
		err = checkMediaFields(kind, req)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	cmd, err := mediaCommand(req, data)
	if err != nil {
		a.fail(c, err)
		return
	}
	cmd.Idempotency = idempotencyClaim(c, acceptedAnswer)
	svc := a.svc.Messaging
	send := map[ports.WAMediaKind]func() (ports.Message, error){
		ports.MediaImage:    func() (ports.Message, error) { return svc.SendImage(ctx(c), principal(c), inst, cmd) },
		ports.MediaDocument: func() (ports.Message, error) { return svc.SendDocument(ctx(c), principal(c), inst, cmd) },
		ports.MediaAudio:    func() (ports.Message, error) { return svc.SendAudio(ctx(c), principal(c), inst, cmd) },
		ports.MediaVideo:    func() (ports.Message, error) { return svc.SendVideo(ctx(c), principal(c), inst, cmd) },
		ports.MediaSticker:  func() (ports.Message, error) { return svc.SendSticker(ctx(c), principal(c), inst, cmd) },
	}[kind]
	m, err := send()
	a.accepted(c, m, err)
}

// readMediaRequest decodes either form; data is the uploaded file of a
// multipart request (nil for JSON).
func (a *api) readMediaRequest(c *gin.Context) (sendMediaReq, []byte, error) {
	mt, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "multipart/form-data" {
		var req sendMediaReq
		return req, nil, decodeJSON(c, &req)
	}
	return readMultipart(c.Request.Body, params["boundary"], a.opt.MaxMediaBytes)
}

// The multipart fields besides the file, each at most maxFieldBytes.
const maxFieldBytes = 8 << 10

// readMultipart reads the parts one by one, so that the file is never
// held twice and never spills to disk: file (the bytes, at most max) and
// the fields of the JSON form as text.
func readMultipart(body io.Reader, boundary string, max int64) (sendMediaReq, []byte, error) {
	var req sendMediaReq
	var file []byte
	if boundary == "" {
		return req, nil, errInvalidJSON("the multipart body has no boundary")
	}
	mr := multipart.NewReader(body, boundary)
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return req, nil, multipartError(err)
		}
		name := part.FormName()
		if err := checkPartName(name, seen); err != nil {
			return req, nil, err
		}
		if name == "file" {
			if file, err = safehttp.ReadBody(part, max); err != nil {
				return req, nil, multipartError(err)
			}
			if file == nil {
				file = []byte{}
			}
			req.Media = &mediaReq{FileName: part.FileName(), MimeType: part.Header.Get("Content-Type")}
			continue
		}
		v, err := safehttp.ReadBody(part, maxFieldBytes)
		if err != nil {
			return req, nil, ports.InvalidFields(ports.FieldError{Field: name, Message: "is too long"})
		}
		if fe := ports.CheckText(name, string(v), maxFieldBytes); fe != nil {
			return req, nil, ports.InvalidFields(*fe)
		}
		if err := setFormField(&req, name, string(v)); err != nil {
			return req, nil, err
		}
	}
	if file == nil {
		return req, nil, ports.InvalidFields(ports.FieldError{Field: "file", Message: "is required: upload the file as the part named file"})
	}
	return req, file, nil
}

// checkPartName applies the JSON form's rules to a part's name: a name,
// and each name once.
func checkPartName(name string, seen map[string]bool) error {
	switch {
	case ports.CheckName("field", name, 64) != nil:
		return ports.InvalidFields(ports.FieldError{Field: ports.CleanText(name), Message: "unknown field"})
	case seen[name]:
		return ports.InvalidFields(ports.FieldError{Field: name, Message: "duplicate field"})
	}
	seen[name] = true
	return nil
}

// setFormField sets one text field of a multipart send.
func setFormField(req *sendMediaReq, name, v string) error {
	switch name {
	case "to":
		req.To = v
	case "caption":
		req.Caption = &v
	case "filename":
		req.FileName = &v
	case "ptt":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ports.InvalidFields(ports.FieldError{Field: "ptt", Message: "must be true or false"})
		}
		req.PTT = &b
	case "gif":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ports.InvalidFields(ports.FieldError{Field: "gif", Message: "must be true or false"})
		}
		req.GIF = &b
	case "replyTo":
		req.ReplyTo = v
	case "mentions":
		// One part holds them all, comma-separated: a part name appears
		// once in this form.
		req.Mentions = strings.Split(v, ",")
	case "mentionAll":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ports.InvalidFields(ports.FieldError{Field: name, Message: "must be true or false"})
		}
		req.MentionAll = b
	default:
		return ports.InvalidFields(ports.FieldError{Field: name, Message: "unknown field"})
	}
	return nil
}

// multipartError keeps ETooLarge (the file, or the whole body, over its
// limit) and calls anything else a malformed body.
func multipartError(err error) error {
	if ports.IsCode(err, ports.ETooLarge) {
		return err
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return ports.ReasonError(ports.EInvalid, "invalid_json", "the multipart body is malformed")
}

// checkMediaFields refuses the fields a kind does not take.
func checkMediaFields(kind ports.WAMediaKind, req sendMediaReq) error {
	var field string
	switch {
	case (kind == ports.MediaAudio || kind == ports.MediaSticker) && req.Caption != nil:
		field = "caption"
	case kind != ports.MediaDocument && req.FileName != nil:
		field = "filename"
	case kind != ports.MediaAudio && req.PTT != nil:
		field = "ptt"
	case kind != ports.MediaVideo && req.GIF != nil:
		field = "gif"
	}
	if field != "" {
		return ports.InvalidFields(ports.FieldError{Field: field, Message: "unknown field"})
	}
	return nil
}

// mediaCommand turns the request into the core's command; the base64 of
// the JSON form is decoded here, the core checks the rest.
func mediaCommand(req sendMediaReq, file []byte) (messaging.SendMediaCmd, error) {
	cmd := messaging.SendMediaCmd{To: req.To, Caption: deref(req.Caption), FileName: deref(req.FileName), PTT: req.PTT != nil && *req.PTT,
		GIF: req.GIF != nil && *req.GIF, Reply: req.reply()}
	if req.Media == nil {
		return cmd, nil
	}
	cmd.Media = messaging.MediaInput{Data: file, MimeType: req.Media.MimeType, FileName: req.Media.FileName, URL: deref(req.Media.URL)}
	if req.Media.Base64 != nil {
		data, err := decodeBase64(*req.Media.Base64)
		if err != nil {
			return cmd, ports.InvalidFields(ports.FieldError{Field: "media.base64", Message: "must be base64 (RFC 4648)"})
		}
		cmd.Media.Data = data
	}
	return cmd, nil
}

// decodeBase64 accepts standard base64 with or without padding, and a
// data: URL prefix, which browsers produce.
func decodeBase64(s string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		if _, b64, ok := strings.Cut(rest, ";base64,"); ok {
			s = b64
		}
	}
	if data, err := base64.StdEncoding.DecodeString(s); err == nil {
		return data, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// getMedia answers the file of a message: its bytes with their type, as an
// attachment, so that a browser never renders a received HTML file in the
// API's origin.
func (a *api) getMedia(c *gin.Context) {
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	id := ports.MessageID(c.Param("messageId"))
	md, err := a.svc.Messaging.GetMedia(ctx(c), principal(c), inst, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	ct := md.MimeType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	c.Header("Content-Disposition", contentDisposition(md.FileName, string(id), ct))
	c.Header("Content-Security-Policy", "sandbox; default-src 'none'")
	c.Data(http.StatusOK, ct, md.Data)
}

// contentDisposition names the download: the file's own name, or the
// message id with an extension of its type. mime.FormatMediaType quotes
// and, for non-ASCII names, encodes it (RFC 2231).
func contentDisposition(name, id, ct string) string {
	if name == "" {
		name = id
		if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
			name += exts[0]
		}
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}
