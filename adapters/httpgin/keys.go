package httpgin

// The API key routes of an instance: create, list and revoke.

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/ports"
)

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
