package httpgin

// The audit log route.

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

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
