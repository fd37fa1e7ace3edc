package httpgin

// The data-governance routes of SPEC §18: erasing a person, the
// subscription's retention, closing the account.
//
// Roles (issue 16, applied when teams land): POST /privacy/erase owner or
// admin; GET /subscription every member; PATCH /subscription owner or
// admin; DELETE /subscription owner only.

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/governance"
	"github.com/wagate/wagate/ports"
)

type eraseReq struct {
	PhoneNumber string `json:"phoneNumber"`
}

// ErasureDTO is what an erasure removed.
type ErasureDTO struct {
	Messages        int `json:"messages"`
	BulkRecipients  int `json:"bulkRecipients"`
	Media           int `json:"media"`
	Deliveries      int `json:"deliveries"`
	Events          int `json:"events"`
	IdempotencyKeys int `json:"idempotencyKeys"`
	Contacts        int `json:"contacts"`
	Exports         int `json:"exports"` // the subscription's data exports, deleted whole
}

// RetentionDTO is a subscription's retention, in days (0: forever).
type RetentionDTO struct {
	MessagesDays   int  `json:"messagesDays"`
	MediaDays      int  `json:"mediaDays"`
	DeliveriesDays int  `json:"deliveriesDays"`
	AuditDays      int  `json:"auditDays"`
	Default        bool `json:"default"` // the platform default applies
}

// OwnSubscriptionDTO is GET /subscription.
type OwnSubscriptionDTO struct {
	ID        string       `json:"id"`
	Tier      string       `json:"tier"`
	Retention RetentionDTO `json:"retention"`
	CreatedAt time.Time    `json:"createdAt"`
}

type retentionPatch struct {
	MessagesDays   *int `json:"messagesDays"`
	MediaDays      *int `json:"mediaDays"`
	DeliveriesDays *int `json:"deliveriesDays"`
	AuditDays      *int `json:"auditDays"`
}

type patchSubscriptionReq struct {
	Retention *retentionPatch `json:"retention"`
}

type closeReq struct {
	Password string `json:"password"`
}

// governanceOn answers 503 when the module is not wired.
func (a *api) governanceOn(c *gin.Context) bool {
	if a.svc.Governance == nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "data governance is not available"))
		return false
	}
	return true
}

func (a *api) erasePerson(c *gin.Context) {
	var req eraseReq
	if !a.governanceOn(c) {
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	n, err := a.svc.Governance.Erase(ctx(c), principal(c), req.PhoneNumber)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ErasureDTO{
		Messages: n.Messages, BulkRecipients: n.BulkRecipients, Media: n.Media,
		Deliveries: n.Deliveries, Events: n.Events, IdempotencyKeys: n.IdempotencyKeys, Contacts: n.Contacts,
		Exports: n.Exports,
	})
}

func ownSubscriptionDTO(v governance.SubscriptionView) OwnSubscriptionDTO {
	r := v.Retention
	return OwnSubscriptionDTO{
		ID: string(v.Subscription.ID), Tier: string(v.Subscription.Tier), CreatedAt: v.Subscription.CreatedAt.UTC(),
		Retention: RetentionDTO{
			MessagesDays: r.MessagesDays, MediaDays: r.MediaDays, DeliveriesDays: r.DeliveriesDays,
			AuditDays: r.AuditDays, Default: v.Default,
		},
	}
}

func (a *api) getOwnSubscription(c *gin.Context) {
	if !a.governanceOn(c) {
		return
	}
	v, err := a.svc.Governance.Subscription(ctx(c), principal(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ownSubscriptionDTO(v))
}

func (a *api) patchOwnSubscription(c *gin.Context) {
	var req patchSubscriptionReq
	if !a.governanceOn(c) {
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if req.Retention == nil {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "retention", Message: "is required"}))
		return
	}
	r := req.Retention
	v, err := a.svc.Governance.SetRetention(ctx(c), principal(c), governance.RetentionPatch{
		MessagesDays: r.MessagesDays, MediaDays: r.MediaDays, DeliveriesDays: r.DeliveriesDays, AuditDays: r.AuditDays,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ownSubscriptionDTO(v))
}

func (a *api) closeSubscription(c *gin.Context) {
	var req closeReq
	if !a.governanceOn(c) {
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.svc.Governance.Close(ctx(c), principal(c), req.Password); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
