package httpgin

// The instance routes: create, list, read, update and delete instances, and
// an API key's own instance.

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

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
	Settings *settingsReq    `json:"settings"`
}

// settingsReq changes the per-instance behaviour; absent fields stay.
type settingsReq struct {
	RejectCalls            *bool   `json:"rejectCalls"`
	RejectCallMessage      *string `json:"rejectCallMessage"`
	AutoRead               *bool   `json:"autoRead"`
	AlwaysOnline           *bool   `json:"alwaysOnline"`
	IgnoreGroups           *bool   `json:"ignoreGroups"`
	IgnoreStatusBroadcasts *bool   `json:"ignoreStatusBroadcasts"`
}

func (r *settingsReq) patch() *sessions.SettingsPatch {
	if r == nil {
		return nil
	}
	return &sessions.SettingsPatch{
		RejectCalls: r.RejectCalls, RejectCallMessage: r.RejectCallMessage, AutoRead: r.AutoRead,
		AlwaysOnline: r.AlwaysOnline, IgnoreGroups: r.IgnoreGroups, IgnoreStatusBroadcasts: r.IgnoreStatusBroadcasts,
	}
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
		Name: req.Name, Metadata: req.Metadata, ProxyURL: req.ProxyURL, Settings: req.Settings.patch(),
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
