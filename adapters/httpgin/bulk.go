package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/bulks"
	"github.com/wagate/wagate/ports"
)

// The bulk routes of SPEC §8: created with an API key on /api/v1/bulk (the
// key names the instance) or with a JWT on /api/v1/instances/{id}/bulk;
// read and driven on /api/v1/bulk/{id} with either (a key reaches its own
// instance's bulks only).

type createBulkReq struct {
	TemplateID  string             `json:"templateId"`
	Text        string             `json:"text"`
	Recipients  []bulkRecipientReq `json:"recipients"`
	ScheduledAt *string            `json:"scheduledAt"`
	Pacing      *bulkPacingReq     `json:"pacing"`
}

type bulkRecipientReq struct {
	To        string            `json:"to"`
	Variables map[string]string `json:"variables"`
}

type bulkPacingReq struct {
	MinDelayMs *int64 `json:"minDelayMs"`
	MaxDelayMs *int64 `json:"maxDelayMs"`
}

// BulkPacingDTO is the pause between two sends of a bulk.
type BulkPacingDTO struct {
	MinDelayMs int64 `json:"minDelayMs"`
	MaxDelayMs int64 `json:"maxDelayMs"`
}

// BulkDTO is a bulk send with its progress (SPEC §8), also the data of
// bulk.status. The counts are the recipients by their message's current
// status (queued includes sending) and add up to total.
type BulkDTO struct {
	ID          string        `json:"id"`
	InstanceID  string        `json:"instanceId"`
	Status      string        `json:"status"`
	TemplateID  *string       `json:"templateId"`
	Total       int           `json:"total"`
	Queued      int           `json:"queued"`
	Sent        int           `json:"sent"`
	Delivered   int           `json:"delivered"`
	Read        int           `json:"read"`
	Failed      int           `json:"failed"`
	Pacing      BulkPacingDTO `json:"pacing"`
	ScheduledAt *time.Time    `json:"scheduledAt"`
	CreatedAt   time.Time     `json:"createdAt"`
	StartedAt   *time.Time    `json:"startedAt"`
	CompletedAt *time.Time    `json:"completedAt"`
}

func bulkDTO(s ports.BulkSummary) BulkDTO {
	return BulkDTO{
		ID: string(s.ID), InstanceID: string(s.InstanceID), Status: string(s.Status), TemplateID: optString(string(s.TemplateID)),
		Total: s.Total, Queued: s.Counts.Queued, Sent: s.Counts.Sent, Delivered: s.Counts.Delivered, Read: s.Counts.Read, Failed: s.Counts.Failed,
		Pacing:      BulkPacingDTO{MinDelayMs: s.PacingMin.Milliseconds(), MaxDelayMs: s.PacingMax.Milliseconds()},
		ScheduledAt: optTime(s.ScheduledAt), CreatedAt: s.CreatedAt.UTC(), StartedAt: optTime(s.StartedAt), CompletedAt: optTime(s.CompletedAt),
	}
}

// bulkInstance is the instance a bulk is created for: the path's on the
// JWT form, the key's own on the API-key form.
func bulkInstance(c *gin.Context) (ports.InstanceID, error) {
	if id := instanceParam(c); id != "" {
		return id, nil
	}
	p := principal(c)
	if p.Kind != ports.PrincipalAPIKey {
		return "", ports.ReasonError(ports.EForbidden, "forbidden",
			"this route needs an instance API key; with an access token use /api/v1/instances/{id}/bulk")
	}
	return p.InstanceID, nil
}

func (a *api) createBulk(c *gin.Context) {
	var req createBulkReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := bulkInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	cmd, err := req.command()
	if err != nil {
		a.fail(c, err)
		return
	}
	cmd.Idempotency = idempotencyClaim(c, createdBulkAnswer)
	b, err := a.svc.Bulks.Create(ctx(c), principal(c), inst, cmd)
	if err != nil {
		a.fail(c, err)
		return
	}
	resp, err := createdBulkAnswer(b)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Data(resp.Status, resp.ContentType, resp.Body)
}

// createdBulkAnswer is the 202 of a bulk; the Idempotency-Key answer
// stored in the bulk's transaction is the same bytes.
func createdBulkAnswer(b ports.BulkSummary) (ports.IdempotencyAnswer, error) {
	return jsonAnswer(http.StatusAccepted, bulkDTO(b))
}

// command converts the request; EInvalid for a scheduledAt that is not
// RFC 3339 or a pacing without both bounds. The core checks the rest.
func (r createBulkReq) command() (bulks.CreateCmd, error) {
	cmd := bulks.CreateCmd{TemplateID: ports.TemplateID(r.TemplateID), Text: r.Text}
	cmd.Recipients = make([]bulks.Recipient, len(r.Recipients))
	for i, rc := range r.Recipients {
		cmd.Recipients[i] = bulks.Recipient{To: rc.To, Variables: rc.Variables}
	}
	var fields []ports.FieldError
	if r.ScheduledAt != nil {
		at, err := time.Parse(time.RFC3339, *r.ScheduledAt)
		if err != nil {
			fields = append(fields, ports.FieldError{Field: "scheduledAt", Message: "must be an RFC 3339 time"})
		}
		cmd.ScheduledAt = &at
	}
	if p := r.Pacing; p != nil {
		if p.MinDelayMs == nil {
			fields = append(fields, ports.FieldError{Field: "pacing.minDelayMs", Message: "is required"})
		}
		if p.MaxDelayMs == nil {
			fields = append(fields, ports.FieldError{Field: "pacing.maxDelayMs", Message: "is required"})
		}
		if p.MinDelayMs != nil && p.MaxDelayMs != nil {
			cmd.Pacing = &bulks.Pacing{Min: millis(*p.MinDelayMs), Max: millis(*p.MaxDelayMs)}
		}
	}
	if len(fields) > 0 {
		return cmd, ports.InvalidFields(fields...)
	}
	return cmd, nil
}

// millis converts milliseconds, clamped so that a huge value stays huge
// (and out of bounds) instead of overflowing.
func millis(ms int64) time.Duration {
	const limit = int64(1) << 40
	return time.Duration(max(min(ms, limit), -limit)) * time.Millisecond
}

func (a *api) getBulk(c *gin.Context) {
	b, err := a.svc.Bulks.Get(ctx(c), principal(c), bulkParam(c))
	a.bulk(c, b, err)
}

func (a *api) pauseBulk(c *gin.Context) {
	b, err := a.svc.Bulks.Pause(ctx(c), principal(c), bulkParam(c))
	a.bulk(c, b, err)
}

func (a *api) resumeBulk(c *gin.Context) {
	b, err := a.svc.Bulks.Resume(ctx(c), principal(c), bulkParam(c))
	a.bulk(c, b, err)
}

func (a *api) cancelBulk(c *gin.Context) {
	b, err := a.svc.Bulks.Cancel(ctx(c), principal(c), bulkParam(c))
	a.bulk(c, b, err)
}

func (a *api) listBulkMessages(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Bulks.ListMessages(ctx(c), principal(c), bulkParam(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, messageDTO))
}

func (a *api) bulk(c *gin.Context, b ports.BulkSummary, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, bulkDTO(b))
}

func bulkParam(c *gin.Context) ports.BulkID { return ports.BulkID(c.Param("id")) }
