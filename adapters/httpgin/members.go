package httpgin

// The members routes (SPEC §17): invitations, accepting one, the member
// list, role changes and removal.

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

type inviteReq struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

type acceptInvitationReq struct {
	Token    string `json:"token"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

type changeRoleReq struct {
	Role string `json:"role"`
}

// MemberDTO is a member of the caller's subscription.
type MemberDTO struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
}

// InvitationDTO is an invitation; Token is only set in the create response.
type InvitationDTO struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Token     string    `json:"token,omitempty"`
	InvitedBy *string   `json:"invitedBy"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func memberDTO(u ports.User) MemberDTO {
	return MemberDTO{ID: string(u.ID), Email: u.Email, Name: u.Name, Role: string(u.MemberRole), CreatedAt: u.CreatedAt.UTC()}
}

func invitationDTO(inv ports.Invitation) InvitationDTO {
	return InvitationDTO{
		ID: inv.ID, Email: inv.Email, Role: string(inv.Role), InvitedBy: optString(string(inv.InvitedBy)),
		CreatedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC(),
	}
}

func (a *api) createInvitation(c *gin.Context) {
	var req inviteReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inv, err := a.svc.Tenancy.Invite(ctx(c), principal(c), tenancy.InviteCmd{Email: req.Email, Role: ports.MemberRole(req.Role)})
	if err != nil {
		a.fail(c, err)
		return
	}
	out := invitationDTO(inv.Invitation)
	out.Token = inv.Token
	c.JSON(http.StatusCreated, out)
}

func (a *api) listInvitations(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Tenancy.ListInvitations(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, invitationDTO))
}

func (a *api) deleteInvitation(c *gin.Context) {
	if err := a.svc.Tenancy.DeleteInvitation(ctx(c), principal(c), c.Param("id")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) acceptInvitation(c *gin.Context) {
	var req acceptInvitationReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	acc, tok, err := a.svc.Tenancy.AcceptInvitation(ctx(c), tenancy.AcceptCmd{
		Token: req.Token, Password: req.Password, Name: req.Name, Client: client(c),
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	// Like register and login: in console mode the refresh token goes into
	// the HttpOnly cookie, so the new member lands signed in.
	sub, t := subscriptionDTO(acc.Subscription), a.issueTokens(c, tok)
	c.JSON(http.StatusCreated, accountResp{User: userDTO(acc.User), Subscription: &sub, Tokens: &t})
}

func (a *api) listMembers(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Tenancy.ListMembers(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, memberDTO))
}

func (a *api) changeMemberRole(c *gin.Context) {
	var req changeRoleReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u, err := a.svc.Tenancy.ChangeRole(ctx(c), principal(c), ports.UserID(c.Param("userId")), ports.MemberRole(req.Role))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, memberDTO(u))
}

func (a *api) removeMember(c *gin.Context) {
	if err := a.svc.Tenancy.RemoveMember(ctx(c), principal(c), ports.UserID(c.Param("userId"))); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
