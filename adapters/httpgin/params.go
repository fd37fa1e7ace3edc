package httpgin

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// maxCursor bounds the opaque cursor a client may echo back.
const maxCursor = 512

// maxQueryValue bounds every query parameter: none of ours needs more (an
// access token is far shorter), and a longer one is a mistake or a probe.
const maxQueryValue = 4096

// checkQuery applies the text rule (ports.CheckText) to every query
// parameter before any handler sees it, so that no route passes a NUL or
// invalid UTF-8 to a store: 422 naming the parameter.
func (a *api) checkQuery(c *gin.Context) {
	for name, values := range c.Request.URL.Query() {
		if !ports.ValidText(name) {
			abortWithError(c, a.log, ports.InvalidFields(ports.FieldError{Field: "query",
				Message: "parameter names must be valid UTF-8 without NUL characters"}))
			return
		}
		for _, v := range values {
			if fe := ports.CheckText(name, v, maxQueryValue); fe != nil {
				abortWithError(c, a.log, ports.InvalidFields(*fe))
				return
			}
		}
	}
	c.Next()
}

// pageRequest reads ?limit= and ?cursor= (SPEC §2).
func pageRequest(c *gin.Context) (ports.PageRequest, error) {
	pr := ports.PageRequest{After: c.Query("cursor")}
	var err error
	if pr.Limit, err = limitParam(c, ports.DefaultPageLimit, ports.MaxPageLimit); err != nil {
		return pr, err
	}
	// Cursors are base64url: anything else was not made by this API.
	if len(pr.After) > maxCursor || strings.Trim(pr.After, base64URL) != "" {
		return pr, ports.InvalidFields(ports.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
	}
	return pr, nil
}

// limitParam reads ?limit=: def when absent, else an integer from 1 to
// most (422 on limit otherwise).
func limitParam(c *gin.Context, def, most int) (int, error) {
	s, ok := c.GetQuery("limit")
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, ports.InvalidFields(ports.FieldError{Field: "limit", Message: "must be an integer from 1 to " + strconv.Itoa(most)})
	}
	return n, nil
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// listBody is the shape of every list response.
type listBody[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// list converts a page with conv.
func list[S, T any](p ports.Page[S], conv func(S) T) listBody[T] {
	out := listBody[T]{Data: make([]T, 0, len(p.Items))}
	for _, it := range p.Items {
		out.Data = append(out.Data, conv(it))
	}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	return out
}
