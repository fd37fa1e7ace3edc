package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// The handlers are thin: decode, one core call, convert. Validation and
// authorization happen in the core.

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

func (a *api) fail(c *gin.Context, err error) { abortWithError(c, a.log, err) }

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
	sub, t := subscriptionDTO(acc.Subscription), tokensDTO(tok)
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
	t := tokensDTO(tok)
	c.JSON(http.StatusOK, accountResp{User: userDTO(u), Tokens: &t})
}

func (a *api) refresh(c *gin.Context) {
	var req refreshReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	tok, err := a.svc.Tenancy.Refresh(ctx(c), req.RefreshToken, client(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": tokensDTO(tok)})
}

func (a *api) logout(c *gin.Context) {
	var req refreshReq
	if err := decodeOptionalJSON(c, &req); err != nil {
		a.fail(c, err)
		return
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

type createInstanceReq struct {
	Name     string         `json:"name"`
	Metadata map[string]any `json:"metadata"`
	ProxyURL string         `json:"proxyUrl"`
}

// updateInstanceReq: an absent (or null) field stays as it is; "" clears
// proxyUrl and {} clears metadata.
type updateInstanceReq struct {
	Name     *string         `json:"name"`
	Metadata *map[string]any `json:"metadata"`
	ProxyURL *string         `json:"proxyUrl"`
}

func (a *api) createInstance(c *gin.Context) {
	var req createInstanceReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := a.svc.Sessions.Create(ctx(c), principal(c), sessions.CreateCmd{
		Name: req.Name, Metadata: req.Metadata, ProxyURL: req.ProxyURL,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, instanceDTO(inst))
}

func (a *api) listInstances(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Sessions.List(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, instanceDTO))
}

func (a *api) getInstance(c *gin.Context) {
	inst, err := a.svc.Sessions.Get(ctx(c), principal(c), ports.InstanceID(c.Param("id")))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, instanceDTO(inst))
}

func (a *api) updateInstance(c *gin.Context) {
	var req updateInstanceReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := a.svc.Sessions.Update(ctx(c), principal(c), ports.InstanceID(c.Param("id")), sessions.UpdateCmd{
		Name: req.Name, Metadata: req.Metadata, ProxyURL: req.ProxyURL,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, instanceDTO(inst))
}

func (a *api) deleteInstance(c *gin.Context) {
	if err := a.svc.Sessions.Delete(ctx(c), principal(c), ports.InstanceID(c.Param("id"))); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) ownInstance(c *gin.Context) {
	inst, err := a.svc.Sessions.Own(ctx(c), principal(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, instanceDTO(inst))
}

// createKeyReq: expiresAt is read as a string so that a bad timestamp is
// a 422 naming the field, like every other invalid value.
type createKeyReq struct {
	Name      string    `json:"name"`
	Scopes    *[]string `json:"scopes"`
	ExpiresAt *string   `json:"expiresAt"`
}

func (r createKeyReq) command() (keys.CreateCmd, error) {
	cmd := keys.CreateCmd{Name: r.Name}
	if r.Scopes != nil {
		cmd.Scopes = make([]ports.Scope, 0, len(*r.Scopes))
		for _, s := range *r.Scopes {
			cmd.Scopes = append(cmd.Scopes, ports.Scope(s))
		}
	}
	if r.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *r.ExpiresAt)
		if err != nil {
			return cmd, ports.InvalidFields(ports.FieldError{Field: "expiresAt", Message: "must be an RFC 3339 timestamp"})
		}
		cmd.ExpiresAt = &t
	}
	return cmd, nil
}

func (a *api) createKey(c *gin.Context) {
	var req createKeyReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	cmd, err := req.command()
	if err != nil {
		a.fail(c, err)
		return
	}
	k, err := a.svc.Keys.Create(ctx(c), principal(c), ports.InstanceID(c.Param("id")), cmd)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, createdKeyDTO(k))
}

func (a *api) listKeys(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Keys.List(ctx(c), principal(c), ports.InstanceID(c.Param("id")), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, apiKeyDTO))
}

func (a *api) deleteKey(c *gin.Context) {
	err := a.svc.Keys.Delete(ctx(c), principal(c), ports.InstanceID(c.Param("id")), ports.APIKeyID(c.Param("keyId")))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type changeTierReq struct {
	Tier string `json:"tier"`
}

func (a *api) listSubscriptions(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Tenancy.ListSubscriptions(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, subscriptionDTO))
}

func (a *api) changeTier(c *gin.Context) {
	var req changeTierReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	s, err := a.svc.Tenancy.ChangeTier(ctx(c), principal(c), ports.SubscriptionID(c.Param("id")), ports.Tier(req.Tier))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, subscriptionDTO(s))
}

func (a *api) listAudit(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Tenancy.ListAudit(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, auditDTO))
}
