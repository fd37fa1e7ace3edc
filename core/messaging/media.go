package messaging

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Limits of media messages (SPEC §6).
const (
	MaxCaptionLen   = 1024
	MaxFileNameLen  = 255
	maxMimeTypeLen  = 255
	DefaultMaxMedia = 10 << 20 // bytes of one file
)

// MediaInput is the file of a send as the client gave it: exactly one of
// Data (the bytes came with the request, base64 or multipart) and URL (the
// service fetches it) is set. MimeType is only what the client claims: it
// must agree with the type sniffed from the bytes, which is what is used.
type MediaInput struct {
	Data     []byte
	URL      string
	MimeType string
	FileName string
}

// SendMediaCmd is an image, document or audio message to send. Caption
// goes with images and documents, FileName with documents (when empty, the
// media's own), PTT with audio.
type SendMediaCmd struct {
	To       string
	Caption  string
	FileName string
	PTT      bool
	GIF      bool // video: plays looped
	Media    MediaInput
	Reply
	// Idempotency is as in SendTextCmd.
	Idempotency *ports.IdempotencyClaim[ports.Message]
}

// SendImage accepts a JPEG, PNG or WebP image with an optional caption.
// Besides SendText's errors: ETooLarge (payload_too_large) for a file over
// the limit; EUnsupported (unsupported_media_type) when the bytes are not
// an image or disagree with the declared type; EInvalid on field media.url
// when URL media cannot be fetched.
func (s *Service) SendImage(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendMediaCmd) (ports.Message, error) {
	return s.sendMedia(ctx, p, inst, ports.MediaImage, cmd)
}

// SendDocument accepts any file but an executable, with an optional
// caption and file name; the errors of SendImage.
func (s *Service) SendDocument(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendMediaCmd) (ports.Message, error) {
	return s.sendMedia(ctx, p, inst, ports.MediaDocument, cmd)
}

// SendAudio accepts OGG/Opus, MP3 or M4A/AAC audio, a voice note when PTT
// is set; the errors of SendImage.
func (s *Service) SendAudio(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendMediaCmd) (ports.Message, error) {
	return s.sendMedia(ctx, p, inst, ports.MediaAudio, cmd)
}

// messageType maps a media kind to its message type.
var messageType = map[ports.WAMediaKind]ports.MessageType{
	ports.MediaImage: ports.MessageImage, ports.MediaDocument: ports.MessageDocument, ports.MediaAudio: ports.MessageAudio,
	ports.MediaVideo: ports.MessageVideo, ports.MediaSticker: ports.MessageSticker,
}

func (s *Service) sendMedia(ctx context.Context, p ports.Principal, inst ports.InstanceID, kind ports.WAMediaKind, cmd SendMediaCmd) (ports.Message, error) {
	if err := canSend(p, inst); err != nil {
		return ports.Message{}, err
	}
	to, toErr := NormaliseTo(cmd.To)
	name := cmd.FileName
	if name == "" {
		name = cmd.Media.FileName
	}
	mentions, replyErrs := cmd.check(cmd.Caption, kind != ports.MediaAudio && kind != ports.MediaSticker)
	errs := []*ports.FieldError{toErr, checkCaption(kind, cmd.Caption), checkFileName(name), checkMediaSource(cmd.Media),
		ports.CheckText("media.mimeType", cmd.Media.MimeType, maxMimeTypeLen)}
	if err := ports.FieldErrors(append(errs, replyErrs...)...); err != nil {
		return ports.Message{}, err
	}
	data, err := s.mediaBytes(ctx, cmd.Media)
	if err != nil {
		return ports.Message{}, err
	}
	mimeType, err := checkMediaType(kind, data, cmd.Media.MimeType)
	if err != nil {
		return ports.Message{}, err
	}
	if kind == ports.MediaDocument && name == "" {
		name = "document"
	}
	sum := sha256.Sum256(data)
	md := ports.MessageMedia{
		MimeType: mimeType, FileName: sanitiseFileName(name), PTT: kind == ports.MediaAudio && cmd.PTT, GIF: kind == ports.MediaVideo && cmd.GIF,
		Size: int64(len(data)), SHA256: sum[:], Data: data,
	}
	if mentions, err = s.withMentionAll(ctx, p, inst, to, cmd.MentionAll, mentions); err != nil {
		return ports.Message{}, err
	}
	draft := ports.Message{To: to, Type: messageType[kind], Caption: cmd.Caption, Mentions: mentions}
	return s.acceptWith(ctx, p, inst, draft, cmd.ReplyTo, cmd.Idempotency, func(ctx context.Context, st ports.Stores, m ports.Message) error {
		md.MessageID, md.SubscriptionID, md.CreatedAt = m.ID, m.SubscriptionID, m.CreatedAt
		if err := st.Media.PutMedia(ctx, m.SubscriptionID, md); err != nil {
			return fmt.Errorf("store media: %w", err)
		}
		return nil
	})
}

// mediaBytes returns the file: the bytes given, or those fetched from the
// URL; ETooLarge over the limit either way.
func (s *Service) mediaBytes(ctx context.Context, in MediaInput) ([]byte, error) {
	data := in.Data
	if in.URL != "" {
		if s.d.Fetcher == nil {
			return nil, ports.InvalidFields(ports.FieldError{Field: "media.url", Message: "URL media is not available on this server"})
		}
		var err error
		if data, err = s.d.Fetcher.FetchMedia(ctx, in.URL, s.cfg.MaxMediaBytes); err != nil {
			return nil, fmt.Errorf("fetch media: %w", err)
		}
	}
	if int64(len(data)) > s.cfg.MaxMediaBytes {
		return nil, errTooLarge(s.cfg.MaxMediaBytes)
	}
	if len(data) == 0 {
		return nil, ports.InvalidFields(ports.FieldError{Field: "media", Message: "the file is empty"})
	}
	return data, nil
}

func errTooLarge(limit int64) error {
	return ports.ReasonError(ports.ETooLarge, "payload_too_large", fmt.Sprintf("the file is over the limit of %d bytes", limit))
}

// checkMediaType sniffs data and returns its type if kind accepts it and
// the declared type, if any, agrees; EUnsupported otherwise.
func checkMediaType(kind ports.WAMediaKind, data []byte, declared string) (string, error) {
	sniffed := sniffFor(kind, data)
	if !accepts(kind, sniffed) {
		return "", ports.ReasonError(ports.EUnsupported, "unsupported_media_type",
			fmt.Sprintf("the file is %s, which cannot be sent as %s", baseType(sniffed), kind))
	}
	if declared != "" && !sameFamily(declared, sniffed) {
		return "", ports.ReasonError(ports.EUnsupported, "unsupported_media_type",
			fmt.Sprintf("the file is %s, not the declared %s", baseType(sniffed), declared))
	}
	return sniffed, nil
}

func checkMediaSource(in MediaInput) *ports.FieldError {
	switch {
	case in.URL != "" && in.Data != nil:
		return &ports.FieldError{Field: "media", Message: "give exactly one of url and base64"}
	case in.URL == "" && in.Data == nil:
		return &ports.FieldError{Field: "media", Message: "is required: a url, base64 data or an uploaded file"}
	case in.URL != "" && !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://"):
		return &ports.FieldError{Field: "media.url", Message: "must be an http or https URL"}
	}
	return ports.CheckText("media.url", in.URL, 2048)
}

func checkCaption(kind ports.WAMediaKind, caption string) *ports.FieldError {
	if (kind == ports.MediaAudio || kind == ports.MediaSticker) && caption != "" {
		return &ports.FieldError{Field: "caption", Message: string(kind) + " messages have no caption"}
	}
	return checkLabel("caption", caption, MaxCaptionLen)
}

func checkFileName(name string) *ports.FieldError {
	return ports.CheckText("filename", name, MaxFileNameLen)
}

// sanitiseFileName keeps the last path element of name, without control
// characters, quotes or backslashes, so that the name is safe in a
// Content-Disposition header and on the recipient's disk.
func sanitiseFileName(name string) string {
	name = strings.ReplaceAll(strings.ToValidUTF8(name, ""), "\\", "/")
	if name = path.Base("/" + name); name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == '/' || r == utf8.RuneError {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	return truncate(name, MaxFileNameLen)
}

// GetMedia returns the file of an inbound or outbound message of the
// instance. API keys need messages:read. ENotFound for another instance's
// or tenant's message, and for a message without a file.
func (s *Service) GetMedia(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) (ports.MessageMedia, error) {
	if _, err := s.Get(ctx, p, inst, id); err != nil {
		return ports.MessageMedia{}, err
	}
	md, err := s.d.Stores.Media.GetMedia(ctx, p.SubscriptionID, id)
	if ports.IsCode(err, ports.ENotFound) {
		return ports.MessageMedia{}, ports.Errorf(ports.ENotFound, "the message has no media")
	}
	if err != nil {
		return ports.MessageMedia{}, fmt.Errorf("get media: %w", err)
	}
	return md, nil
}

// mediaKind maps a message type to its media kind; "" for text and location.
func mediaKind(t ports.MessageType) ports.WAMediaKind {
	for k, mt := range messageType {
		if mt == t {
			return k
		}
	}
	return ""
}

// loadMedia returns the file of a media message, read before the claim so
// that a failed read leaves the message queued; nil for text and location.
func (s *Service) loadMedia(ctx context.Context, m ports.Message) (*ports.MessageMedia, error) {
	if mediaKind(m.Type) == "" {
		return nil, nil
	}
	md, err := s.d.Stores.Media.GetMedia(ctx, m.SubscriptionID, m.ID)
	if err != nil {
		return nil, fmt.Errorf("get media of %s: %w", m.ID, err)
	}
	return &md, nil
}
