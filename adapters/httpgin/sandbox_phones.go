package httpgin

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// GET /sandbox/phones/{phone}/messages (SPEC §15a): what a simulated phone
// received, as it decrypted it, limited to what the caller's own instances
// sent it, so that one tenant never sees another's messages.

// phoneMessageDTO is one message as the phone received it. Fields that the
// message does not carry are omitted.
type phoneMessageDTO struct {
	WAMessageID string            `json:"waMessageId"`
	From        string            `json:"from"`
	Chat        string            `json:"chat"`
	Type        string            `json:"type"`
	Text        string            `json:"text,omitempty"`
	Caption     string            `json:"caption,omitempty"`
	Media       *phoneMediaDTO    `json:"media,omitempty"`
	Location    *LocationDTO      `json:"location,omitempty"`
	Contacts    []phoneContactDTO `json:"contacts,omitempty"`
	Poll        *PollDTO          `json:"poll,omitempty"`
	ReceivedAt  time.Time         `json:"receivedAt"`
	phoneActionsDTO
}

type phoneMediaDTO struct {
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
	FileName string `json:"filename,omitempty"`
	PTT      bool   `json:"ptt,omitempty"`
	GIF      bool   `json:"gif,omitempty"`
	Animated bool   `json:"animated,omitempty"`
	Seconds  uint32 `json:"seconds,omitempty"`
	Waveform []int  `json:"waveform,omitempty"`
	Width    uint32 `json:"width,omitempty"`
	Height   uint32 `json:"height,omitempty"`
	// Thumbnail is the JPEG preview the sender attached, as the phone decoded it.
	Thumbnail *phoneThumbnailDTO `json:"thumbnail,omitempty"`
}

type phoneThumbnailDTO struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Size   int `json:"size"`
}

type phoneContactDTO struct {
	Name  string `json:"name"`
	VCard string `json:"vcard"`
}

func toPhoneMessage(m ports.PhoneMessage) phoneMessageDTO {
	d := phoneMessageDTO{WAMessageID: m.WAMessageID, From: m.From, Chat: m.Chat, Type: string(m.Type),
		Text: m.Text, Caption: m.Caption, ReceivedAt: m.ReceivedAt.UTC()}
	if m.Media != nil {
		md := m.Media
		d.Media = &phoneMediaDTO{MimeType: md.MimeType, Size: md.Size, FileName: md.FileName, PTT: md.PTT,
			GIF: md.GIF, Animated: md.Animated, Seconds: md.Seconds, Width: md.Width, Height: md.Height}
		if th := md.Thumbnail; th != nil {
			d.Media.Thumbnail = &phoneThumbnailDTO{Width: th.Width, Height: th.Height, Size: th.Size}
		}
		for _, l := range md.Waveform {
			d.Media.Waveform = append(d.Media.Waveform, int(l))
		}
	}
	for _, c := range m.Contacts {
		d.Contacts = append(d.Contacts, phoneContactDTO{Name: c.Name, VCard: c.VCard})
	}
	d.Poll = pollDTO(m.Poll)
	d.Location = locationDTO(m.Location)
	d.phoneActionsDTO = phoneActions(m)
	return d
}

func (a *api) sandboxPhoneMessages(c *gin.Context) {
	phone := strings.TrimPrefix(strings.TrimSpace(c.Param("phone")), "+")
	if n := len(phone); n < minPhoneDigits || n > maxPhoneDigits || strings.Trim(phone, "0123456789") != "" {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "phone", Message: "must be a phone number: + and 7 to 15 digits"}))
		return
	}
	only := c.Query("instanceId")
	if only != "" && !isUUID(only) {
		a.fail(c, ports.Errorf(ports.ENotFound, "no such instance"))
		return
	}
	senders, err := a.senderPhones(c, ports.InstanceID(only))
	if err != nil {
		a.fail(c, err)
		return
	}
	msgs, err := a.opt.Sandbox.PhoneMessages(ctx(c), phone)
	if err != nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "the simulated network did not answer: %v", err))
		return
	}
	out := listBody[phoneMessageDTO]{Data: []phoneMessageDTO{}}
	for _, m := range msgs {
		if senders[jidUser(m.From)] {
			out.Data = append(out.Data, toPhoneMessage(m))
		}
	}
	c.JSON(http.StatusOK, out)
}

// senderPhones are the phone numbers (digits) of the caller's instances,
// or of the one instance asked for (404 when it is another tenant's).
func (a *api) senderPhones(c *gin.Context, only ports.InstanceID) (map[string]bool, error) {
	phones := map[string]bool{}
	add := func(inst ports.Instance) {
		if p := strings.TrimPrefix(inst.PhoneNumber, "+"); p != "" {
			phones[p] = true
		}
	}
	if only != "" {
		inst, err := a.svc.Sessions.Get(ctx(c), principal(c), only)
		if err != nil {
			return nil, err
		}
		add(inst)
		return phones, nil
	}
	page := ports.PageRequest{Limit: ports.MaxPageLimit}
	for {
		p, err := a.svc.Sessions.List(ctx(c), principal(c), page)
		if err != nil {
			return nil, err
		}
		for _, inst := range p.Items {
			add(inst)
		}
		if p.Next == "" {
			return phones, nil
		}
		page.After = p.Next
	}
}

// jidUser is the user part of a JID ("1555@s.whatsapp.net" → "1555").
func jidUser(jid string) string {
	user, _, _ := strings.Cut(jid, "@")
	user, _, _ = strings.Cut(user, ":")
	return user
}
