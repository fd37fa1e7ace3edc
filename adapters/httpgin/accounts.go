package httpgin

// The account routes: sign-up, login, token refresh, logout, password
// change and the caller's own account.

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/tenancy"
)

type registerReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

type loginReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type refreshReq struct {
	RefreshToken string `json:"refreshToken"`
}

type passwordReq struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

type accountResp struct {
	User         UserDTO          `json:"user"`
	Subscription *SubscriptionDTO `json:"subscription,omitempty"`
	Tokens       *TokensDTO       `json:"tokens,omitempty"`
}

func (a *api) register(c *gin.Context) {
	var req registerReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	acc, tok, err := a.svc.Tenancy.Register(ctx(c), tenancy.RegisterCmd{
		Email: req.Email, Password: req.Password, Name: req.Name, Client: client(c),
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	sub, t := subscriptionDTO(acc.Subscription), a.issueTokens(c, tok)
	c.JSON(http.StatusCreated, accountResp{User: userDTO(acc.User), Subscription: &sub, Tokens: &t})
}

func (a *api) login(c *gin.Context) {
	var req loginReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	u, tok, err := a.svc.Tenancy.Login(ctx(c), tenancy.LoginCmd{Email: req.Email, Password: req.Password, Client: client(c)})
	if err != nil {
		a.fail(c, err)
		return
	}
	t := a.issueTokens(c, tok)
	c.JSON(http.StatusOK, accountResp{User: userDTO(u), Tokens: &t})
}

func (a *api) refresh(c *gin.Context) {
	var req refreshReq
	// In console mode the token comes from the cookie and the body may be
	// empty; elsewhere the body is required.
	decodeBody := decodeJSON
	if consoleMode(c) {
		decodeBody = decodeOptionalJSON
	}
	if err := decodeBody(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if req.RefreshToken == "" {
		req.RefreshToken = cookieRefreshToken(c)
	}
	tok, err := a.svc.Tenancy.Refresh(ctx(c), req.RefreshToken, client(c))
	if err != nil {
		if consoleMode(c) {
			a.clearRefreshCookie(c)
		}
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": a.issueTokens(c, tok)})
}

func (a *api) logout(c *gin.Context) {
	var req refreshReq
	if err := decodeOptionalJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if req.RefreshToken == "" {
		req.RefreshToken = cookieRefreshToken(c)
	}
	if consoleMode(c) {
		a.clearRefreshCookie(c)
	}
	if err := a.svc.Tenancy.Logout(ctx(c), principal(c), req.RefreshToken); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) changePassword(c *gin.Context) {
	var req passwordReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.svc.Tenancy.ChangePassword(ctx(c), principal(c), req.CurrentPassword, req.NewPassword); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) me(c *gin.Context) {
	acc, err := a.svc.Tenancy.Me(ctx(c), principal(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	sub := subscriptionDTO(acc.Subscription)
	c.JSON(http.StatusOK, accountResp{User: userDTO(acc.User), Subscription: &sub})
}
