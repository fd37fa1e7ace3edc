package httpgin

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/stats"
	"github.com/wagate/wagate/ports"
)

// The statistics routes of SPEC §11: GET /api/v1/stats (users: the whole
// subscription or ?instanceId=; API keys: their own instance) and
// GET /api/v1/instances/{id}/stats (users only, like every instance route).

// CountersDTO are the counters of a day or of the whole range.
type CountersDTO struct {
	Sent      int64 `json:"sent"`
	Failed    int64 `json:"failed"`
	Delivered int64 `json:"delivered"`
	Read      int64 `json:"read"`
	Received  int64 `json:"received"`
	APICalls  int64 `json:"apiCalls"`
}

// StatsDayDTO is one day of statistics.
type StatsDayDTO struct {
	Date string `json:"date"`
	CountersDTO
}

// StatsDTO answers the stats routes; from and to tell the range the
// defaults chose.
type StatsDTO struct {
	From   string        `json:"from"`
	To     string        `json:"to"`
	Totals CountersDTO   `json:"totals"`
	Days   []StatsDayDTO `json:"days"`
}

func countersDTO(c ports.Counters) CountersDTO {
	return CountersDTO{Sent: c.Sent, Failed: c.Failed, Delivered: c.Delivered, Read: c.Read, Received: c.Received, APICalls: c.APICalls}
}

func statsDTO(r stats.Report) StatsDTO {
	out := StatsDTO{
		From: r.From.Format(time.DateOnly), To: r.To.Format(time.DateOnly),
		Totals: countersDTO(r.Totals), Days: make([]StatsDayDTO, 0, len(r.Days)),
	}
	for _, d := range r.Days {
		out.Days = append(out.Days, StatsDayDTO{Date: d.Day.Format(time.DateOnly), CountersDTO: countersDTO(d.Counters)})
	}
	return out
}

func (a *api) stats(c *gin.Context) {
	a.queryStats(c, stats.Query{InstanceID: ports.InstanceID(c.Query("instanceId"))})
}

func (a *api) instanceStats(c *gin.Context) {
	if err := principal(c).RequireUser(); err != nil {
		a.fail(c, err)
		return
	}
	a.queryStats(c, stats.Query{InstanceID: instanceParam(c)})
}

func (a *api) queryStats(c *gin.Context, q stats.Query) {
	if a.svc.Stats == nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "statistics are not available"))
		return
	}
	q.From, q.To = c.Query("from"), c.Query("to")
	r, err := a.svc.Stats.Query(ctx(c), principal(c), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, statsDTO(r))
}

// countCall counts the request in the statistics' API calls: an API
// key's against its instance; a user's against the instance of an
// /instances/{id}/… route unless that answered 404 (the id may be anyone's
// or no one's), otherwise against the subscription alone (an empty
// instance id, which the subscription-wide totals include). Rate-limited
// requests count: the caller made them. Only what needs the answer's
// status waits for it; the rest counts up front, so that a long-lived
// event stream counts when it opens, not when it ends.
func (a *api) countCall(c *gin.Context) {
	p, ok := principalOf(c)
	if !ok || a.svc.Stats == nil {
		c.Next()
		return
	}
	if p.Kind == ports.PrincipalAPIKey || !strings.Contains(c.FullPath(), "/instances/:id") {
		a.svc.Stats.CountAPICall(p.SubscriptionID, p.InstanceID) // empty for users
		c.Next()
		return
	}
	c.Next()
	var inst ports.InstanceID
	if c.Writer.Status() != http.StatusNotFound {
		inst = instanceParam(c)
	}
	a.svc.Stats.CountAPICall(p.SubscriptionID, inst)
}
