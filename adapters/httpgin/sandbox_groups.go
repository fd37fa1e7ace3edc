package httpgin

import (
	"context"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/ports"
)

// POST /sandbox/instances/{id}/group-event (SPEC §15a): a member phone
// changes a group the instance is in; and inbound with group: a member
// phone writes in it.

// GroupPlayer is the part of the simulator that plays phones in groups
// (wasim's Server and Remote have it).
type GroupPlayer interface {
	ContactSendGroup(ctx context.Context, from, group string, m ports.PhoneSend) error
	ContactGroupEvent(ctx context.Context, from, group, action string, participants []string, value string) error
}

type groupEventReq struct {
	Group        string   `json:"group"`
	From         string   `json:"from"`
	Action       string   `json:"action"`
	Participants []string `json:"participants"`
	Value        string   `json:"value"`
}

var groupEventActions = []string{"add", "remove", "promote", "demote", "leave", "subject", "description"}

func checkGroupEvent(r *groupEventReq) error {
	var fields []ports.FieldError
	if fe := checkFrom(&r.From); fe != nil {
		fields = append(fields, *fe)
	}
	if fe := groups.CheckGroupJID(r.Group); fe != nil {
		fields = append(fields, *fe)
	}
	switch {
	case !slices.Contains(groupEventActions, r.Action):
		fields = append(fields, ports.FieldError{Field: "action", Message: "must be add, remove, promote, demote, leave, subject or description"})
	case r.Action == "subject" && (r.Value == "" || utf8.RuneCountInString(r.Value) > 100):
		fields = append(fields, ports.FieldError{Field: "value", Message: "must be 1 to 100 characters"})
	case r.Action == "description" && utf8.RuneCountInString(r.Value) > 2048:
		fields = append(fields, ports.FieldError{Field: "value", Message: "must be at most 2048 characters"})
	case slices.Contains(groupEventActions[:4], r.Action) && (len(r.Participants) == 0 || len(r.Participants) > 256):
		fields = append(fields, ports.FieldError{Field: "participants", Message: "must list 1 to 256 phone numbers"})
	}
	for i := range r.Participants {
		if fe := checkFrom(&r.Participants[i]); fe != nil {
			fields = append(fields, ports.FieldError{Field: "participants", Message: fe.Message})
			break
		}
	}
	if len(fields) > 0 {
		return ports.InvalidFields(fields...)
	}
	return nil
}

// instanceInGroup checks that the path's instance is connected and in the
// group: the simulated network is shared, and a tenant plays phones in its
// own instances' groups only (another group is 404, as on the group
// routes).
func (a *api) instanceInGroup(c *gin.Context, group string) error {
	inst, err := a.connectedInstance(c)
	if err != nil {
		return err
	}
	if a.svc.Groups == nil {
		return ports.ReasonError(ports.EUnsupported, "not_supported", "groups are not available")
	}
	_, err = a.svc.Groups.Get(ctx(c), principal(c), inst.ID, group)
	return err
}

func (a *api) sandboxGroupEvent(c *gin.Context) {
	gp, ok := a.opt.Sandbox.(GroupPlayer)
	if !ok {
		a.fail(c, ports.ReasonError(ports.EUnsupported, "not_supported", "the simulator cannot play group changes"))
		return
	}
	var req groupEventReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := checkGroupEvent(&req); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.instanceInGroup(c, req.Group); err != nil {
		a.fail(c, err)
		return
	}
	if err := gp.ContactGroupEvent(ctx(c), req.From, req.Group, req.Action, req.Participants, req.Value); err != nil {
		// The phone is not in the group, not an admin, or the group is gone.
		a.fail(c, ports.ReasonError(ports.EConflict, "group_event_refused", "the simulated network refused the change: "+err.Error()))
		return
	}
	c.JSON(http.StatusAccepted, inboundResp{Status: "sent"})
}
