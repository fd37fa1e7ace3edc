package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/ports"
)

// The template routes of SPEC §8, and the render preview (an extension).

// TemplateDTO is a template with the placeholder names of its body.
type TemplateDTO struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	Variables []string  `json:"variables"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func templateDTO(t ports.Template) TemplateDTO {
	vars := t.Variables
	if vars == nil {
		vars = []string{}
	}
	return TemplateDTO{
		ID: string(t.ID), Name: t.Name, Body: t.Body, Variables: vars,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
}

type createTemplateReq struct {
	Name string `json:"name"`
	Body string `json:"body"`
}

type patchTemplateReq struct {
	Name *string `json:"name"`
	Body *string `json:"body"`
}

type renderTemplateReq struct {
	Variables map[string]string `json:"variables"`
}

type renderTemplateResp struct {
	Text string `json:"text"`
}

func templateID(c *gin.Context) ports.TemplateID { return ports.TemplateID(c.Param("id")) }

// templatesOn answers 503 when the module is not wired.
func (a *api) templatesOn(c *gin.Context) bool {
	if a.svc.Templates == nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "templates are not available"))
		return false
	}
	return true
}

func (a *api) createTemplate(c *gin.Context) {
	var req createTemplateReq
	if !a.templatesOn(c) {
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	t, err := a.svc.Templates.Create(ctx(c), principal(c), templates.CreateCmd{Name: req.Name, Body: req.Body})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, templateDTO(t))
}

func (a *api) listTemplates(c *gin.Context) {
	if !a.templatesOn(c) {
		return
	}
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Templates.List(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, templateDTO))
}

func (a *api) getTemplate(c *gin.Context) {
	if !a.templatesOn(c) {
		return
	}
	t, err := a.svc.Templates.Get(ctx(c), principal(c), templateID(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, templateDTO(t))
}

func (a *api) updateTemplate(c *gin.Context) {
	var req patchTemplateReq
	if !a.templatesOn(c) {
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	t, err := a.svc.Templates.Update(ctx(c), principal(c), templateID(c), templates.PatchCmd{Name: req.Name, Body: req.Body})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, templateDTO(t))
}

func (a *api) deleteTemplate(c *gin.Context) {
	if !a.templatesOn(c) {
		return
	}
	if err := a.svc.Templates.Delete(ctx(c), principal(c), templateID(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) renderTemplate(c *gin.Context) {
	var req renderTemplateReq
	if !a.templatesOn(c) {
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	text, err := a.svc.Templates.Render(ctx(c), principal(c), templateID(c), req.Variables)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, renderTemplateResp{Text: text})
}
