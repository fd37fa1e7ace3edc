package httpgin

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

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
	From string `json:"from"`
	Text string `json:"text"`
	LID  bool   `json:"lid"`
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
	inst, err := a.svc.Sessions.Get(ctx(c), principal(c), instanceParam(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	if inst.Status != ports.StatusConnected || inst.PhoneNumber == "" {
		a.fail(c, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the instance is not connected"))
		return
	}
	send := a.opt.Sandbox.ContactSendText
	if req.LID {
		send = a.opt.Sandbox.ContactSendTextFromLID
	}
	if err := send(ctx(c), req.From, inst.PhoneNumber, req.Text); err != nil {
		a.fail(c, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the simulated contact could not reach the instance: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, inboundResp{Status: "sent"})
}

// checkInbound normalizes from to +digits and checks the text.
func checkInbound(r *inboundReq) error {
	var fields []ports.FieldError
	digits := strings.TrimPrefix(strings.TrimSpace(r.From), "+")
	if n := len(digits); n < minPhoneDigits || n > maxPhoneDigits || strings.Trim(digits, "0123456789") != "" {
		fields = append(fields, ports.FieldError{Field: "from", Message: "must be a phone number: + and 7 to 15 digits"})
	}
	r.From = "+" + digits
	if n := utf8.RuneCountInString(r.Text); n == 0 || n > maxInboundText {
		fields = append(fields, ports.FieldError{Field: "text", Message: "must be 1 to 4096 characters"})
	}
	if len(fields) > 0 {
		return ports.InvalidFields(fields...)
	}
	return nil
}
