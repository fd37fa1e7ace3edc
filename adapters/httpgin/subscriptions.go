package httpgin

// The admin routes over subscriptions: list them and change their tier.

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

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
