package httpgin

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// POST /sandbox/instances/{id}/react|edit|revoke (SPEC §15a): a contact
// reacts to, edits or deletes a message of its chat with the instance.
// messageId is wagate's id of a message of that instance.

// ContactActor is the part of the simulator that plays a contact's
// actions (wasim's Server and Remote have it). key names the message from
// the contact's side: Chat is the instance's phone, FromMe whether the
// contact wrote it.
type ContactActor interface {
	ContactReact(ctx context.Context, from string, key ports.WAMessageKey, emoji string) error
	ContactEdit(ctx context.Context, from string, key ports.WAMessageKey, text string) error
	ContactRevoke(ctx context.Context, from string, key ports.WAMessageKey) error
}

type sandboxActionReq struct {
	From      string  `json:"from"`
	MessageID string  `json:"messageId"`
	Emoji     *string `json:"emoji,omitempty"`
	Text      *string `json:"text,omitempty"`
}

// sandboxActionRoutes registers the three routes on the sandbox group.
func (a *api) sandboxActionRoutes(sb *gin.RouterGroup) {
	sb.POST("/react", func(c *gin.Context) { a.sandboxAct(c, "react") })
	sb.POST("/edit", func(c *gin.Context) { a.sandboxAct(c, "edit") })
	sb.POST("/revoke", func(c *gin.Context) { a.sandboxAct(c, "revoke") })
}

func (a *api) sandboxAct(c *gin.Context, kind string) {
	actor, ok := a.opt.Sandbox.(ContactActor)
	if !ok {
		a.fail(c, ports.ReasonError(ports.EUnsupported, "not_supported", "the simulator cannot play contacts' actions"))
		return
	}
	var req sandboxActionReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := checkSandboxAction(&req, kind); err != nil {
		a.fail(c, err)
		return
	}
	key, err := a.sandboxKey(c, req)
	if err != nil {
		a.fail(c, err)
		return
	}
	if kind != "react" && !key.FromMe {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "messageId", Message: "must be a message the contact sent to the instance"}))
		return
	}
	switch kind {
	case "react":
		err = actor.ContactReact(ctx(c), req.From, key, *req.Emoji)
	case "edit":
		err = actor.ContactEdit(ctx(c), req.From, key, *req.Text)
	default:
		err = actor.ContactRevoke(ctx(c), req.From, key)
	}
	if err != nil {
		a.fail(c, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the simulated contact could not reach the instance: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, inboundResp{Status: "sent"})
}

// sandboxKey finds the message on the connected instance and names it
// from the contact's side; a message of the chat with another contact is
// 422, another instance's or tenant's 404.
func (a *api) sandboxKey(c *gin.Context, req sandboxActionReq) (ports.WAMessageKey, error) {
	inst, err := a.svc.Sessions.Get(ctx(c), principal(c), instanceParam(c))
	if err != nil {
		return ports.WAMessageKey{}, err
	}
	if inst.Status != ports.StatusConnected || inst.PhoneNumber == "" {
		return ports.WAMessageKey{}, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the instance is not connected")
	}
	if !isUUID(req.MessageID) {
		return ports.WAMessageKey{}, ports.Errorf(ports.ENotFound, "message not found")
	}
	m, err := a.svc.Messaging.Get(ctx(c), principal(c), inst.ID, ports.MessageID(req.MessageID))
	if err != nil {
		return ports.WAMessageKey{}, err
	}
	contact := strings.TrimPrefix(req.From, "+")
	peer := m.To
	if m.Direction == ports.DirectionInbound {
		peer = m.From
	}
	if jidUser(peer) != contact || m.WAMessageID == "" {
		return ports.WAMessageKey{}, ports.InvalidFields(ports.FieldError{Field: "messageId", Message: "must be a message of the chat between the contact and the instance, sent or received"})
	}
	return ports.WAMessageKey{Chat: inst.PhoneNumber, ID: m.WAMessageID, FromMe: m.Direction == ports.DirectionInbound}, nil
}

// checkSandboxAction checks from and the field its kind needs.
func checkSandboxAction(r *sandboxActionReq, kind string) error {
	in := inboundReq{From: r.From, Text: "x"}
	var fields []ports.FieldError
	if err := checkInbound(&in); err != nil {
		fields = append(fields, ports.FieldError{Field: "from", Message: "must be a phone number: + and 7 to 15 digits"})
	}
	r.From = in.From
	switch {
	case kind == "react" && (r.Emoji == nil || len(*r.Emoji) > 64):
		fields = append(fields, ports.FieldError{Field: "emoji", Message: "is required: one emoji, or \"\" to remove"})
	case kind == "edit" && (r.Text == nil || *r.Text == "" || len([]rune(*r.Text)) > maxInboundText):
		fields = append(fields, ports.FieldError{Field: "text", Message: "must be 1 to 4096 characters"})
	}
	if len(fields) > 0 {
		return ports.InvalidFields(fields...)
	}
	return nil
}

// phoneActionsDTO is what a phone's record shows of actions and context
// (SPEC §15a): reactions, the edited text, a deletion, the quoted id,
// mentions, the forwarded mark and a link preview's title.
type phoneActionsDTO struct {
	Reactions    []ReactionDTO `json:"reactions,omitempty"`
	EditedText   string        `json:"editedText,omitempty"`
	Deleted      bool          `json:"deleted,omitempty"`
	Quoted       string        `json:"quoted,omitempty"`
	Mentions     []string      `json:"mentions,omitempty"`
	IsForwarded  bool          `json:"isForwarded,omitempty"`
	PreviewTitle string        `json:"previewTitle,omitempty"`
}

func phoneActions(m ports.PhoneMessage) phoneActionsDTO {
	d := phoneActionsDTO{EditedText: m.EditedText, Deleted: m.Deleted,
		Quoted: m.Quoted, Mentions: m.Mentions, IsForwarded: m.IsForwarded, PreviewTitle: m.PreviewTitle}
	for _, r := range m.Reactions {
		d.Reactions = append(d.Reactions, ReactionDTO{From: r.From, Emoji: r.Emoji, At: r.At.UTC()})
	}
	return d
}
