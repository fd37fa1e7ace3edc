package httpgin

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// maxCursor bounds the opaque cursor a client may echo back.
const maxCursor = 512

// pageRequest reads ?limit= and ?cursor= (SPEC §2).
func pageRequest(c *gin.Context) (ports.PageRequest, error) {
	pr := ports.PageRequest{Limit: ports.DefaultPageLimit, After: c.Query("cursor")}
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > ports.MaxPageLimit {
			return pr, ports.InvalidFields(ports.FieldError{Field: "limit",
				Message: "must be an integer from 1 to " + strconv.Itoa(ports.MaxPageLimit)})
		}
		pr.Limit = n
	}
	if len(pr.After) > maxCursor {
		return pr, ports.InvalidFields(ports.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
	}
	return pr, nil
}

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
