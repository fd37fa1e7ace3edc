package httpgin

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// GET /api/v1/events of SPEC §10: a client that was away reads the event
// log from its last event on.

// eventPage is the answer: the envelopes, exactly as webhooks and the
// stream send them, and the cursor to pass as the next ?after=.
type eventPage struct {
	Data []json.RawMessage `json:"data"`
	// NextCursor is the id of the page's last event. null when the page is
	// empty: nothing follows the cursor yet, and the client keeps the one
	// it has (as on the other lists, null says "no more for now").
	NextCursor *string `json:"nextCursor"`
}

func (a *api) listEvents(c *gin.Context) {
	if a.svc.EventLog == nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "the event log is not available"))
		return
	}
	q, err := eventQuery(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	evs, err := a.svc.EventLog.Read(ctx(c), principal(c), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := eventPage{Data: make([]json.RawMessage, 0, len(evs))}
	for _, e := range evs {
		b, err := eventjson.Encode(e)
		if err != nil {
			a.log.LogAttrs(ctx(c), slog.LevelWarn, "event without a wire form skipped",
				slog.String("type", string(e.Type)), slog.String("event_id", e.ID), slog.String("error", err.Error()))
			continue
		}
		out.Data = append(out.Data, b)
	}
	if len(evs) > 0 {
		// The last read, even if it was skipped: the next page starts after it.
		out.NextCursor = &evs[len(evs)-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// eventQuery reads ?after=, ?instanceId=, ?types= and ?limit=.
func eventQuery(c *gin.Context) (events.Query, error) {
	q := events.Query{After: c.Query("after")}
	var err error
	if q.Limit, err = limitParam(c, events.DefaultListLimit, events.MaxListLimit); err != nil {
		return q, err
	}
	if q.InstanceID, err = instanceFilterParam(c); err != nil {
		return q, err
	}
	q.Types, err = typesParam(c)
	return q, err
}

// instanceFilterParam reads ?instanceId=; what is not an instance id cannot be
// one of the caller's (404).
func instanceFilterParam(c *gin.Context) (ports.InstanceID, error) {
	id := c.Query("instanceId")
	if id != "" && !isUUID(id) {
		return "", ports.Errorf(ports.ENotFound, "instance not found")
	}
	return ports.InstanceID(id), nil
}

// typesParam reads ?types=, a comma list of event types (422 for one it
// does not know).
func typesParam(c *gin.Context) ([]ports.EventType, error) {
	raw := c.Query("types")
	if raw == "" {
		return nil, nil
	}
	var out []ports.EventType
	for _, s := range strings.Split(raw, ",") {
		t := ports.EventType(strings.TrimSpace(s))
		if !eventTypes[t] {
			return nil, ports.InvalidFields(ports.FieldError{Field: "types", Message: "unknown event type " + strings.TrimSpace(s)})
		}
		out = append(out, t)
	}
	return out, nil
}
