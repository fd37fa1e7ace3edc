package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// The webhook routes of SPEC §9.

// WebhookDTO is an endpoint. Secret is set only in the answers of create
// and rotate-secret.
type WebhookDTO struct {
	ID             string     `json:"id"`
	InstanceID     string     `json:"instanceId"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Description    string     `json:"description"`
	Enabled        bool       `json:"enabled"`
	DisabledReason *string    `json:"disabledReason"`
	LastSuccessAt  *time.Time `json:"lastSuccessAt"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	Secret         string     `json:"secret,omitempty"`
}

func webhookDTO(w ports.WebhookEndpoint) WebhookDTO {
	return WebhookDTO{
		ID: string(w.ID), InstanceID: string(w.InstanceID), URL: w.URL, Events: w.Events,
		Description: w.Description, Enabled: w.Enabled, DisabledReason: optString(w.DisabledReason),
		LastSuccessAt: optTime(w.LastSuccessAt), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC(),
		Secret: w.Secret,
	}
}

// DeliveryDTO is one entry of an endpoint's delivery log.
type DeliveryDTO struct {
	ID             string     `json:"id"`
	EventID        string     `json:"eventId"`
	EventType      string     `json:"eventType"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastStatusCode *int       `json:"lastStatusCode"`
	LastError      *string    `json:"lastError"`
	LastResponse   *string    `json:"lastResponse"`
	LatencyMS      int64      `json:"latencyMs"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

func deliveryDTO(d ports.WebhookDelivery) DeliveryDTO {
	out := DeliveryDTO{
		ID: string(d.ID), EventID: d.EventID, EventType: string(d.EventType), Status: string(d.Status),
		Attempts: d.Attempts, LastError: optString(d.LastError), LastResponse: optString(d.LastResponse),
		LatencyMS: d.LatencyMS, NextAttemptAt: optTime(d.NextAttemptAt),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
	if d.LastStatusCode != 0 {
		out.LastStatusCode = &d.LastStatusCode
	}
	return out
}

type createWebhookReq struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

type patchWebhookReq struct {
	URL         *string  `json:"url"`
	Events      []string `json:"events"`
	Description *string  `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

func webhookID(c *gin.Context) ports.WebhookID { return ports.WebhookID(c.Param("wid")) }

func (a *api) createWebhook(c *gin.Context) {
	var req createWebhookReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	w, err := a.svc.Webhooks.Create(ctx(c), principal(c), instanceParam(c), webhooks.CreateCmd{
		URL: req.URL, Events: req.Events, Description: req.Description, Enabled: req.Enabled,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, webhookDTO(w))
}

func (a *api) listWebhooks(c *gin.Context) {
	ws, err := a.svc.Webhooks.List(ctx(c), principal(c), instanceParam(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ports.Page[ports.WebhookEndpoint]{Items: ws}, webhookDTO))
}

func (a *api) getWebhook(c *gin.Context) {
	w, err := a.svc.Webhooks.Get(ctx(c), principal(c), instanceParam(c), webhookID(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookDTO(w))
}

func (a *api) updateWebhook(c *gin.Context) {
	var req patchWebhookReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	w, err := a.svc.Webhooks.Update(ctx(c), principal(c), instanceParam(c), webhookID(c), webhooks.PatchCmd{
		URL: req.URL, Events: req.Events, Description: req.Description, Enabled: req.Enabled,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookDTO(w))
}

func (a *api) deleteWebhook(c *gin.Context) {
	if err := a.svc.Webhooks.Delete(ctx(c), principal(c), instanceParam(c), webhookID(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) rotateWebhookSecret(c *gin.Context) {
	w, err := a.svc.Webhooks.RotateSecret(ctx(c), principal(c), instanceParam(c), webhookID(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookDTO(w))
}

func (a *api) testWebhook(c *gin.Context) {
	id, err := a.svc.Webhooks.Test(ctx(c), principal(c), instanceParam(c), webhookID(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"eventId": id})
}

func (a *api) listDeliveries(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Webhooks.Deliveries(ctx(c), principal(c), instanceParam(c), webhookID(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, deliveryDTO))
}

func (a *api) retryDelivery(c *gin.Context) {
	d, err := a.svc.Webhooks.Retry(ctx(c), principal(c), instanceParam(c), webhookID(c), ports.DeliveryID(c.Param("did")))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, deliveryDTO(d))
}
