package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The routes that act on a stored message (SPEC §6a), in both forms like
// the other message routes: reaction, edit, delete, read, forward, and a
// chat's presence.

type reactionReq struct {
	Emoji *string `json:"emoji"`
}

type editReq struct {
	Text string `json:"text"`
}

type forwardReq struct {
	To string `json:"to"`
}

type presenceReq struct {
	State string `json:"state"`
}

// presenceResp answers a presence: what was shown, where.
type presenceResp struct {
	Chat  string `json:"chat"`
	State string `json:"state"`
}

// ReactionDTO is one account's reaction to a message.
type ReactionDTO struct {
	From  string    `json:"from"`
	Emoji string    `json:"emoji"`
	At    time.Time `json:"at"`
}

// MessageReactionDTO is the data of message.reaction.
type MessageReactionDTO struct {
	MessageID string `json:"messageId"`
	From      string `json:"from"`
	Emoji     string `json:"emoji"`
}

// MessageEditedDTO is the data of message.edited.
type MessageEditedDTO struct {
	MessageID string    `json:"messageId"`
	Text      string    `json:"text"`
	EditedAt  time.Time `json:"editedAt"`
}

// MessageDeletedDTO is the data of message.deleted.
type MessageDeletedDTO struct {
	MessageID string    `json:"messageId"`
	DeletedAt time.Time `json:"deletedAt"`
	By        string    `json:"by"`
}

// actionEventDTO converts the data of the action events; false for other
// data.
func actionEventDTO(data any) (any, bool) {
	switch d := data.(type) {
	case ports.MessageReactionData:
		return MessageReactionDTO{MessageID: string(d.MessageID), From: d.From, Emoji: d.Emoji}, true
	case ports.MessageEditedData:
		return MessageEditedDTO{MessageID: string(d.MessageID), Text: d.Text, EditedAt: d.EditedAt.UTC()}, true
	case ports.MessageDeletedData:
		return MessageDeletedDTO{MessageID: string(d.MessageID), DeletedAt: d.DeletedAt.UTC(), By: d.By}, true
	}
	return nil, false
}

// withActions fills in a message's action fields.
func withActions(d MessageDTO, m ports.Message) MessageDTO {
	d.Reactions = make([]ReactionDTO, len(m.Reactions))
	for i, r := range m.Reactions {
		d.Reactions[i] = ReactionDTO{From: r.From, Emoji: r.Emoji, At: r.At.UTC()}
	}
	d.Mentions = m.Mentions
	if d.Mentions == nil {
		d.Mentions = []string{}
	}
	d.EditedAt, d.DeletedAt, d.IsForwarded = optTime(m.EditedAt), optTime(m.DeletedAt), m.IsForwarded
	return d
}

// messageAction runs one action on the path's message and answers 200
// with the message after it.
func (a *api) messageAction(c *gin.Context, req any, act func(ports.InstanceID, ports.MessageID) (ports.Message, error)) {
	if req != nil {
		if err := decodeJSON(c, req); err != nil {
			a.fail(c, err)
			return
		}
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := act(inst, ports.MessageID(c.Param("messageId")))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, messageDTO(m))
}

func (a *api) reactToMessage(c *gin.Context) {
	var req reactionReq
	a.messageAction(c, &req, func(inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
		if req.Emoji == nil {
			return ports.Message{}, ports.InvalidFields(ports.FieldError{Field: "emoji", Message: "is required (\"\" removes the reaction)"})
		}
		return a.svc.Messaging.React(ctx(c), principal(c), inst, id, *req.Emoji)
	})
}

func (a *api) editMessage(c *gin.Context) {
	var req editReq
	a.messageAction(c, &req, func(inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
		return a.svc.Messaging.Edit(ctx(c), principal(c), inst, id, req.Text)
	})
}

func (a *api) deleteMessage(c *gin.Context) {
	a.messageAction(c, nil, func(inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
		return a.svc.Messaging.Delete(ctx(c), principal(c), inst, id)
	})
}

func (a *api) readMessage(c *gin.Context) {
	a.messageAction(c, nil, func(inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
		return a.svc.Messaging.MarkRead(ctx(c), principal(c), inst, id)
	})
}

func (a *api) forwardMessage(c *gin.Context) {
	var req forwardReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := a.svc.Messaging.Forward(ctx(c), principal(c), inst, ports.MessageID(c.Param("messageId")), messaging.ForwardCmd{
		To: req.To, Idempotency: idempotencyClaim(c, acceptedAnswer),
	})
	a.accepted(c, m, err)
}

func (a *api) sendPresence(c *gin.Context) {
	if id := c.Param("id"); id != "" && !isUUID(id) {
		a.fail(c, ports.Errorf(ports.ENotFound, "no such resource"))
		return
	}
	if len(c.Param("chat")) > 128 {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "chat", Message: "must be a phone number or a JID"}))
		return
	}
	var req presenceReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	chat := c.Param("chat")
	if err := a.svc.Messaging.SendPresence(ctx(c), principal(c), inst, chat, ports.ChatPresence(req.State)); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, presenceResp{Chat: chat, State: req.State})
}

// messageActionRoutes registers the routes of both forms; the presence
// routes on byChat, whose chat parameter is a phone number or JID, not a
// UUID (sendPresence checks the instance id itself).
func (a *api) messageActionRoutes(r, byChat *gin.RouterGroup) {
	for _, prefix := range []string{"", "/instances/:id"} {
		r.POST(prefix+"/messages/:messageId/reaction", a.reactToMessage)
		r.PATCH(prefix+"/messages/:messageId", a.editMessage)
		r.DELETE(prefix+"/messages/:messageId", a.deleteMessage)
		r.POST(prefix+"/messages/:messageId/read", a.readMessage)
		r.POST(prefix+"/messages/:messageId/forward", a.idempotent, a.forwardMessage)
		byChat.POST(prefix+"/chats/:chat/presence", a.sendPresence)
	}
}
