package httpgin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The message routes of SPEC §6, in both forms: with an API key
// /api/v1/messages/… (the key names the instance), with a JWT
// /api/v1/instances/{id}/messages/….

type sendTextReq struct {
	To          string   `json:"to"`
	Text        string   `json:"text"`
	ReplyTo     string   `json:"replyTo"`
	Mentions    []string `json:"mentions"`
	MentionAll  bool     `json:"mentionAll"`
	LinkPreview *bool    `json:"linkPreview"`
}

type sendLocationReq struct {
	To        string   `json:"to"`
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	replyReq
}

// replyReq is what every send accepts besides its content (SPEC §6a):
// the quoted message and the mentioned numbers.
type replyReq struct {
	ReplyTo    string   `json:"replyTo"`
	Mentions   []string `json:"mentions"`
	MentionAll bool     `json:"mentionAll"`
}

// reply is the core's form of r.
func (r replyReq) reply() messaging.Reply {
	return messaging.Reply{ReplyTo: r.ReplyTo, Mentions: r.Mentions, MentionAll: r.MentionAll}
}

// AcceptedMessageDTO answers a send.
type AcceptedMessageDTO struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	To        string    `json:"to"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
}

// MessageErrorDTO is why a message failed.
type MessageErrorDTO struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MessageDTO is a message (SPEC §6).
type MessageDTO struct {
	ID          string           `json:"id"`
	InstanceID  string           `json:"instanceId"`
	Direction   string           `json:"direction"`
	Chat        string           `json:"chat"`
	To          string           `json:"to"`
	From        string           `json:"from"`
	ChatLID     *string          `json:"chatLid,omitempty"` // SPEC §6a: the LIDs beside the phone numbers
	FromLID     *string          `json:"fromLid,omitempty"`
	Type        string           `json:"type"`
	Text        *string          `json:"text"`
	Caption     *string          `json:"caption"`
	Location    *LocationDTO     `json:"location"`
	Contacts    []ContactDTO     `json:"contacts,omitempty"`
	Poll        *PollDTO         `json:"poll,omitempty"`
	RawType     *string          `json:"rawType,omitempty"`
	Status      string           `json:"status"`
	Error       *MessageErrorDTO `json:"error"`
	WAMessageID *string          `json:"waMessageId"`
	ReplyTo     *string          `json:"replyTo"`
	Attempts    int              `json:"attempts"`
	CreatedAt   time.Time        `json:"createdAt"`
	SentAt      *time.Time       `json:"sentAt"`
	DeliveredAt *time.Time       `json:"deliveredAt"`
	ReadAt      *time.Time       `json:"readAt"`
	// Actions on the message (message_actions.go).
	Reactions   []ReactionDTO `json:"reactions"`
	EditedAt    *time.Time    `json:"editedAt"`
	DeletedAt   *time.Time    `json:"deletedAt"`
	Mentions    []string      `json:"mentions"`
	IsForwarded bool          `json:"isForwarded"`
}

// LocationDTO is the pin of a location message.
type LocationDTO struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      *string `json:"name"`
	Address   *string `json:"address"`
}

// MessageStatusDTO is the data of message.status.
type MessageStatusDTO struct {
	MessageID string           `json:"messageId"`
	Status    string           `json:"status"`
	Error     *MessageErrorDTO `json:"error,omitempty"`
}

func messageDTO(m ports.Message) MessageDTO {
	out := MessageDTO{
		ID: string(m.ID), InstanceID: string(m.InstanceID), Direction: string(m.Direction),
		Chat: m.Chat, To: m.To, From: m.From, ChatLID: optString(m.ChatLID), FromLID: optString(m.FromLID), Type: string(m.Type),
		Text: optString(m.Text), Caption: optString(m.Caption), Location: locationDTO(m.Location), Status: string(m.Status),
		Error: messageError(m.ErrorCode, m.ErrorMessage), WAMessageID: optString(m.WAMessageID),
		ReplyTo: optString(m.ReplyTo), Attempts: m.Attempts, CreatedAt: m.CreatedAt.UTC(),
		SentAt: optTime(m.SentAt), DeliveredAt: optTime(m.DeliveredAt), ReadAt: optTime(m.ReadAt),
	}
	out.Contacts, out.Poll, out.RawType = contactDTOs(m.Contacts), pollDTO(m.Poll), optString(m.RawType)
	return withActions(out, m)
}

func locationDTO(l *ports.WALocation) *LocationDTO {
	if l == nil {
		return nil
	}
	return &LocationDTO{Latitude: l.Latitude, Longitude: l.Longitude, Name: optString(l.Name), Address: optString(l.Address)}
}

func messageError(code, msg string) *MessageErrorDTO {
	if code == "" {
		return nil
	}
	return &MessageErrorDTO{Code: code, Message: msg}
}

// messageInstance is the instance a message route acts on: the path's on
// the JWT form, the key's own on the API-key form.
func messageInstance(c *gin.Context) (ports.InstanceID, error) {
	if id := instanceParam(c); id != "" {
		return id, nil
	}
	p := principal(c)
	if p.Kind != ports.PrincipalAPIKey {
		return "", ports.ReasonError(ports.EForbidden, "forbidden",
			"this route needs an instance API key; with an access token use /api/v1/instances/{id}/messages")
	}
	return p.InstanceID, nil
}

func (a *api) sendText(c *gin.Context) {
	var req sendTextReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := a.svc.Messaging.SendText(ctx(c), principal(c), inst, messaging.SendTextCmd{
		To: req.To, Text: req.Text, ReplyTo: req.ReplyTo, Mentions: req.Mentions, MentionAll: req.MentionAll,
		NoLinkPreview: req.LinkPreview != nil && !*req.LinkPreview, Idempotency: idempotencyClaim(c, acceptedAnswer),
	})
	a.accepted(c, m, err)
}

func (a *api) sendLocation(c *gin.Context) {
	var req sendLocationReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := a.svc.Messaging.SendLocation(ctx(c), principal(c), inst, messaging.SendLocationCmd{
		To: req.To, Latitude: req.Latitude, Longitude: req.Longitude, Name: req.Name, Address: req.Address,
		Reply: req.reply(), Idempotency: idempotencyClaim(c, acceptedAnswer),
	})
	a.accepted(c, m, err)
}

// accepted answers a send: 202 with the queued message, or the error.
func (a *api) accepted(c *gin.Context, m ports.Message, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	resp, err := acceptedAnswer(m)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Data(resp.Status, resp.ContentType, resp.Body)
}

// jsonContentType is what gin's c.JSON sends.
const jsonContentType = "application/json; charset=utf-8"

// acceptedAnswer is the 202 of a send; the Idempotency-Key answer stored in
// the message's transaction is the same bytes.
func acceptedAnswer(m ports.Message) (ports.IdempotencyAnswer, error) {
	return jsonAnswer(http.StatusAccepted, AcceptedMessageDTO{
		ID: string(m.ID), Status: string(m.Status), To: m.To, Type: string(m.Type), CreatedAt: m.CreatedAt.UTC(),
	})
}

// jsonAnswer encodes an answer as c.JSON would.
func jsonAnswer(status int, v any) (ports.IdempotencyAnswer, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return ports.IdempotencyAnswer{}, fmt.Errorf("encode answer: %w", err)
	}
	return ports.IdempotencyAnswer{Status: status, ContentType: jsonContentType, Body: body}, nil
}

func (a *api) listMessages(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	f, err := messageFilter(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Messaging.List(ctx(c), principal(c), inst, f, pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, messageDTO))
}

// messageFilter reads ?direction=, ?status=, ?chat= and ?since= (RFC 3339);
// the core checks the values.
func messageFilter(c *gin.Context) (ports.MessageFilter, error) {
	f := ports.MessageFilter{
		Direction: ports.Direction(c.Query("direction")),
		Status:    ports.MessageStatus(c.Query("status")),
		Chat:      c.Query("chat"),
	}
	if s := c.Query("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, ports.InvalidFields(ports.FieldError{Field: "since", Message: "must be an RFC 3339 timestamp"})
		}
		f.Since = t
	}
	return f, nil
}

func (a *api) getMessage(c *gin.Context) {
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := a.svc.Messaging.Get(ctx(c), principal(c), inst, ports.MessageID(c.Param("messageId")))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, messageDTO(m))
}
