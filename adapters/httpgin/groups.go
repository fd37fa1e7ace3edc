package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/ports"
)

// Groups (SPEC §16), in both URL forms: /groups… with an instance API key,
// /instances/{id}/groups… with an access token.

// GroupDTO is a group.
type GroupDTO struct {
	JID              string                `json:"jid"`
	Subject          string                `json:"subject"`
	Description      string                `json:"description"`
	Owner            string                `json:"owner"`
	CreatedAt        time.Time             `json:"createdAt"`
	Participants     []GroupParticipantDTO `json:"participants"`
	Announce         bool                  `json:"announce"`
	Locked           bool                  `json:"locked"`
	EphemeralSeconds uint32                `json:"ephemeralSeconds"`
}

// GroupParticipantDTO is a member of a group.
type GroupParticipantDTO struct {
	PhoneNumber string `json:"phoneNumber"`
	JID         string `json:"jid"`
	Role        string `json:"role"`
}

// ParticipantResultDTO is WhatsApp's answer for one number.
type ParticipantResultDTO struct {
	PhoneNumber string `json:"phoneNumber"`
	Action      string `json:"action"`
	Status      string `json:"status"`
}

// createdGroupDTO is a new group with the answer for each number.
type createdGroupDTO struct {
	GroupDTO
	Results []ParticipantResultDTO `json:"results"`
}

type createGroupReq struct {
	Subject      string   `json:"subject"`
	Participants []string `json:"participants"`
	Description  string   `json:"description"`
}

type updateGroupReq struct {
	Subject          *string `json:"subject"`
	Description      *string `json:"description"`
	Announce         *bool   `json:"announce"`
	Locked           *bool   `json:"locked"`
	EphemeralSeconds *uint32 `json:"ephemeralSeconds"`
}

type participantsReq struct {
	Add     []string `json:"add"`
	Remove  []string `json:"remove"`
	Promote []string `json:"promote"`
	Demote  []string `json:"demote"`
}

type groupPictureReq struct {
	Media struct {
		Base64   *string `json:"base64"`
		MimeType string  `json:"mimeType"`
	} `json:"media"`
}

type joinReq struct {
	Link string `json:"link"`
}

type linkResp struct {
	Link string `json:"link"`
}

func groupDTO(g ports.Group) GroupDTO {
	out := GroupDTO{JID: g.JID, Subject: g.Subject, Description: g.Description, Owner: g.Owner, CreatedAt: g.CreatedAt.UTC(),
		Announce: g.Announce, Locked: g.Locked, EphemeralSeconds: g.EphemeralSeconds,
		Participants: make([]GroupParticipantDTO, 0, len(g.Participants))}
	for _, p := range g.Participants {
		out.Participants = append(out.Participants, GroupParticipantDTO{PhoneNumber: p.PhoneNumber, JID: p.JID, Role: string(p.Role)})
	}
	return out
}

func resultDTOs(rs []ports.ParticipantResult) []ParticipantResultDTO {
	out := make([]ParticipantResultDTO, 0, len(rs))
	for _, r := range rs {
		out = append(out, ParticipantResultDTO{PhoneNumber: r.PhoneNumber, Action: string(r.Action), Status: r.Status})
	}
	return out
}

// groupInstance is the instance a group route acts on: the path's (which
// must be a UUID; these routes skip checkIDs, their group is a JID) or
// the API key's.
func groupInstance(c *gin.Context) (ports.InstanceID, error) {
	if id := c.Param("id"); id != "" && !isUUID(id) {
		return "", ports.Errorf(ports.ENotFound, "no such resource")
	}
	return messageInstance(c)
}

// groupParam is the path's group JID, checked.
func groupParam(c *gin.Context) (string, error) {
	g := c.Param("group")
	if fe := groups.CheckGroupJID(g); fe != nil {
		return "", ports.InvalidFields(*fe)
	}
	return g, nil
}

func (a *api) groupsReady(c *gin.Context) (ports.InstanceID, bool) {
	if a.svc.Groups == nil {
		a.fail(c, ports.ReasonError(ports.EUnsupported, "not_supported", "groups are not available"))
		return "", false
	}
	inst, err := groupInstance(c)
	if err != nil {
		a.fail(c, err)
		return "", false
	}
	return inst, true
}

func (a *api) groupAndInstance(c *gin.Context) (ports.InstanceID, string, bool) {
	inst, ok := a.groupsReady(c)
	if !ok {
		return "", "", false
	}
	g, err := groupParam(c)
	if err != nil {
		a.fail(c, err)
		return "", "", false
	}
	return inst, g, true
}

func (a *api) createGroup(c *gin.Context) {
	inst, ok := a.groupsReady(c)
	if !ok {
		return
	}
	var req createGroupReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	out, err := a.svc.Groups.Create(ctx(c), principal(c), inst, groups.CreateCmd{
		Subject: req.Subject, Participants: req.Participants, Description: req.Description,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, createdGroupDTO{GroupDTO: groupDTO(out.Group), Results: resultDTOs(out.Results)})
}

func (a *api) listGroups(c *gin.Context) {
	inst, ok := a.groupsReady(c)
	if !ok {
		return
	}
	gs, err := a.svc.Groups.List(ctx(c), principal(c), inst)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := listBody[GroupDTO]{Data: make([]GroupDTO, 0, len(gs))}
	for _, g := range gs {
		out.Data = append(out.Data, groupDTO(g))
	}
	c.JSON(http.StatusOK, out)
}

func (a *api) getGroup(c *gin.Context) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	out, err := a.svc.Groups.Get(ctx(c), principal(c), inst, g)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, groupDTO(out))
}

func (a *api) updateGroup(c *gin.Context) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	var req updateGroupReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	out, err := a.svc.Groups.Update(ctx(c), principal(c), inst, g, ports.GroupChanges{
		Subject: req.Subject, Description: req.Description, Announce: req.Announce, Locked: req.Locked, EphemeralSeconds: req.EphemeralSeconds,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, groupDTO(out))
}

func (a *api) setGroupPicture(c *gin.Context) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	var req groupPictureReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	var data []byte
	if req.Media.Base64 != nil {
		var err error
		if data, err = decodeBase64(*req.Media.Base64); err != nil {
			a.fail(c, ports.InvalidFields(ports.FieldError{Field: "media.base64", Message: "must be base64"}))
			return
		}
	}
	if len(data) == 0 {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "media.base64", Message: "must be a JPEG image in base64"}))
		return
	}
	if err := a.svc.Groups.SetPicture(ctx(c), principal(c), inst, g, data); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) deleteGroupPicture(c *gin.Context) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	if err := a.svc.Groups.SetPicture(ctx(c), principal(c), inst, g, nil); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) groupParticipants(c *gin.Context) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	var req participantsReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	res, err := a.svc.Groups.Participants(ctx(c), principal(c), inst, g, groups.ParticipantsCmd{
		Add: req.Add, Remove: req.Remove, Promote: req.Promote, Demote: req.Demote,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listBody[ParticipantResultDTO]{Data: resultDTOs(res)})
}

func (a *api) groupInviteLink(c *gin.Context)  { a.inviteLink(c, false) }
func (a *api) revokeInviteLink(c *gin.Context) { a.inviteLink(c, true) }

func (a *api) inviteLink(c *gin.Context, reset bool) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	link, err := a.svc.Groups.InviteLink(ctx(c), principal(c), inst, g, reset)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, linkResp{Link: link})
}

func (a *api) joinGroup(c *gin.Context) {
	inst, ok := a.groupsReady(c)
	if !ok {
		return
	}
	var req joinReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	out, err := a.svc.Groups.Join(ctx(c), principal(c), inst, req.Link)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, groupDTO(out))
}

func (a *api) leaveGroup(c *gin.Context) {
	inst, g, ok := a.groupAndInstance(c)
	if !ok {
		return
	}
	if err := a.svc.Groups.Leave(ctx(c), principal(c), inst, g); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// groupRoutes registers both forms on r, a group without checkIDs: the
// group parameter is a JID, and the handlers check the instance id.
func (a *api) groupRoutes(r *gin.RouterGroup) {
	for _, prefix := range []string{"", "/instances/:id"} {
		r.POST(prefix+"/groups", a.createGroup)
		r.GET(prefix+"/groups", a.listGroups)
		r.POST(prefix+"/groups/join", a.joinGroup)
		r.GET(prefix+"/groups/:group", a.getGroup)
		r.PATCH(prefix+"/groups/:group", a.updateGroup)
		r.PUT(prefix+"/groups/:group/picture", a.setGroupPicture)
		r.DELETE(prefix+"/groups/:group/picture", a.deleteGroupPicture)
		r.POST(prefix+"/groups/:group/participants", a.groupParticipants)
		r.GET(prefix+"/groups/:group/invite-link", a.groupInviteLink)
		r.POST(prefix+"/groups/:group/invite-link/revoke", a.revokeInviteLink)
		r.POST(prefix+"/groups/:group/leave", a.leaveGroup)
	}
}

// GroupParticipantsEventDTO is the data of a group.participants event.
type GroupParticipantsEventDTO struct {
	Group        string   `json:"group"`
	Action       string   `json:"action"`
	Participants []string `json:"participants"`
	By           string   `json:"by"`
}

// GroupUpdatedEventDTO is the data of a group.updated event.
type GroupUpdatedEventDTO struct {
	Group   string         `json:"group"`
	Changes map[string]any `json:"changes"`
	By      string         `json:"by"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
