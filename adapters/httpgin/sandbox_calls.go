package httpgin

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// ContactCaller is the simulator's optional capability of making a
// contact call an instance (SPEC §15a `call`).
type ContactCaller interface {
	ContactCall(ctx context.Context, from, to string, isVideo bool) error
}

type sandboxCallReq struct {
	From    string `json:"from"`
	IsVideo bool   `json:"isVideo"`
}

// sandboxCall makes a contact call the instance; what the instance does
// with the call arrives as a call.received event.
func (a *api) sandboxCall(c *gin.Context) {
	caller, ok := a.opt.Sandbox.(ContactCaller)
	if !ok {
		a.fail(c, ports.ReasonError(ports.EUnsupported, "not_supported", "the simulator cannot place calls"))
		return
	}
	var req sandboxCallReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if !validPhone(req.From) {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "from", Message: "must be a phone number in international form (7–15 digits)"}))
		return
	}
	inst, err := a.connectedInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if err := caller.ContactCall(ctx(c), req.From, inst.PhoneNumber, req.IsVideo); err != nil {
		a.fail(c, ports.ReasonError(ports.EConflict, ports.ReasonNotConnected, "the simulated contact could not reach the instance: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, inboundResp{Status: "ringing"})
}

// validPhone accepts 7–15 digits with an optional +, spaces and dashes.
func validPhone(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == '+' || r == ' ' || r == '-':
		default:
			return false
		}
	}
	return n >= minPhoneDigits && n <= maxPhoneDigits
}
