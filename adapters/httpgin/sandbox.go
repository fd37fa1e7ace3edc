package httpgin

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/ports"
)

// The sandbox routes of SPEC §15: they play the phone and its contacts on
// the simulated WhatsApp network. Which instance may be acted on, and
// whether it is awaiting a QR or connected, is decided by the sessions
// core; the handlers only pass its answers to the simulator.

// Simulator is the simulated network of sandbox mode, in-process or in a
// `wagate sim` process (wasim's Controller has these methods).
type Simulator interface {
	// ScanQR plays the phone `phone` scanning a QR code an instance shows.
	ScanQR(ctx context.Context, qr, phone string) error
	// ContactSendText makes the contact `from` send text to `to`.
	ContactSendText(ctx context.Context, from, to, text string) error
	// ContactSendTextFromLID is ContactSendText from the contact's LID, in
	// a LID-addressed chat (SPEC §15a lid:true).
	ContactSendTextFromLID(ctx context.Context, from, to, text string) error
	// ContactSendKind makes the contact `from` send a message of any kind.
	ContactSendKind(ctx context.Context, from, to string, m ports.PhoneSend) error
	// ContactVote makes the contact `from` vote on the poll pollID it
	// received from `to`.
	ContactVote(ctx context.Context, from, to, pollID string, selected []string) error
	// PhoneMessages is what the phone (digits) received, oldest first.
	PhoneMessages(ctx context.Context, phone string) ([]ports.PhoneMessage, error)
}

// The input limits of the inbound route.
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15 // E.164
	maxInboundText = 4096
)

type scanResp struct {
	PhoneNumber string `json:"phoneNumber"`
}

type inboundReq struct {
	From      string       `json:"from"`
	Type      string       `json:"type"`
	Text      string       `json:"text"`
	Caption   string       `json:"caption"`
	Media     *mediaReq    `json:"media"`
	Latitude  *float64     `json:"latitude"`
	Longitude *float64     `json:"longitude"`
	Contacts  []ContactDTO `json:"contacts"`
	Poll      *PollDTO     `json:"poll"`
	LID       bool         `json:"lid"`
	Group     string       `json:"group"`
}

type inboundResp struct {
	Status string `json:"status"`
}

// sandboxPhone is the made-up number of an instance's simulated phone:
// +1555 and seven digits from the instance id, so that scanning again
// after a logout links the same number.
func sandboxPhone(id ports.InstanceID) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("+1555%07d", h.Sum32()%10_000_000)
}

func (a *api) sandboxScan(c *gin.Context) {
	id := instanceParam(c)
	qr, err := a.svc.Sessions.QR(ctx(c), principal(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	phone := sandboxPhone(id)
	if err := a.opt.Sandbox.ScanQR(ctx(c), qr.Code, strings.TrimPrefix(phone, "+")); err != nil {
		// The code expired or was replaced between the two calls.
		a.fail(c, ports.ReasonError(ports.EConflict, "not_awaiting_qr", "the simulated phone could not scan the QR code: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, scanResp{PhoneNumber: phone})
}

func (a *api) sandboxInbound(c *gin.Context) {
	var req inboundReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := checkInbound(&req); err != nil {
		a.fail(c, err)
		return
	}
	send, err := phoneSend(req, a.opt.MaxMediaBytes)
	if err != nil {
		a.fail(c, err)
		return
	}
	inst, err := a.connectedInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	// Text keeps its own simulator call, which older `wagate sim`
	// processes also answer.
	switch {
	case req.Group != "":
		gp, ok := a.opt.Sandbox.(GroupPlayer)
		if !ok {
			a.fail(c, ports.ReasonError(ports.EUnsupported, "not_supported", "the simulator cannot play group messages"))
			return
		}
		if err = a.instanceInGroup(c, req.Group); err != nil {
			a.fail(c, err)
			return
		}
		err = gp.ContactSendGroup(ctx(c), req.From, req.Group, send)
	case send.Type == ports.MessageText && req.LID:
		err = a.opt.Sandbox.ContactSendTextFromLID(ctx(c), req.From, inst.PhoneNumber, req.Text)
	case send.Type == ports.MessageText:
		err = a.opt.Sandbox.ContactSendText(ctx(c), req.From, inst.PhoneNumber, req.Text)
	default:
		err = a.opt.Sandbox.ContactSendKind(ctx(c), req.From, inst.PhoneNumber, send)
	}
	if err != nil {
		a.fail(c, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the simulated contact could not reach the instance: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, inboundResp{Status: "sent"})
}

// connectedInstance is the path's instance, which must be connected.
func (a *api) connectedInstance(c *gin.Context) (ports.Instance, error) {
	inst, err := a.svc.Sessions.Get(ctx(c), principal(c), instanceParam(c))
	if err != nil {
		return inst, err
	}
	if inst.Status != ports.StatusConnected || inst.PhoneNumber == "" {
		return inst, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the instance is not connected")
	}
	return inst, nil
}

// checkInbound normalizes from to +digits and checks the text of a text
// message (the default type).
func checkInbound(r *inboundReq) error {
	var fields []ports.FieldError
	if fe := checkFrom(&r.From); fe != nil {
		fields = append(fields, *fe)
	}
	if r.Type == "" {
		r.Type = string(ports.MessageText)
	}
	if n := utf8.RuneCountInString(r.Text); r.Type == string(ports.MessageText) && (n == 0 || n > maxInboundText) {
		fields = append(fields, ports.FieldError{Field: "text", Message: "must be 1 to 4096 characters"})
	}
	if r.LID && r.Type != string(ports.MessageText) {
		// The simulator writes from a LID-addressed chat for texts only.
		fields = append(fields, ports.FieldError{Field: "lid", Message: "is supported with type text only"})
	}
	if r.Group != "" {
		if fe := groups.CheckGroupJID(r.Group); fe != nil {
			fields = append(fields, *fe)
		} else if r.LID {
			fields = append(fields, ports.FieldError{Field: "lid", Message: "is not supported with group"})
		}
	}
	if len(fields) > 0 {
		return ports.InvalidFields(fields...)
	}
	return nil
}

// checkFrom normalizes a contact's number to +digits.
func checkFrom(from *string) *ports.FieldError {
	digits := strings.TrimPrefix(strings.TrimSpace(*from), "+")
	*from = "+" + digits
	if n := len(digits); n < minPhoneDigits || n > maxPhoneDigits || strings.Trim(digits, "0123456789") != "" {
		return &ports.FieldError{Field: "from", Message: "must be a phone number: + and 7 to 15 digits"}
	}
	return nil
}
