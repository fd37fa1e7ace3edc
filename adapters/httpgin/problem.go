package httpgin

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// problemBase prefixes the code to form a problem's type URI.
const problemBase = "https://wagate.dev/problems/"

// errorKind is how one error code looks on the wire.
type errorKind struct {
	status int
	code   string // the default API code; ports.Error.Reason overrides it
}

// errorTable is the one place that maps error codes to HTTP (SPEC §12).
var errorTable = map[ports.ErrorCode]errorKind{
	ports.EInvalid:      {http.StatusUnprocessableEntity, "validation_failed"},
	ports.ENotFound:     {http.StatusNotFound, "not_found"},
	ports.EConflict:     {http.StatusConflict, "conflict"},
	ports.EUnauthorized: {http.StatusUnauthorized, "unauthorized"},
	ports.EForbidden:    {http.StatusForbidden, "forbidden"},
	ports.ERateLimited:  {http.StatusTooManyRequests, "rate_limited"},
	ports.ETooLarge:     {http.StatusRequestEntityTooLarge, "payload_too_large"},
	ports.EUnsupported:  {http.StatusUnsupportedMediaType, "unsupported_media_type"},
	ports.EUnavailable:  {http.StatusServiceUnavailable, "unavailable"},
	ports.EInternal:     {http.StatusInternalServerError, "internal"},
}

// reasonStatus lists the reasons whose status is not their code's: the
// request could not be read at all, which is a 400 rather than a 422; an
// event cursor past the log's retention is gone for good (410), not
// merely not found.
var reasonStatus = map[string]int{
	"invalid_json":   http.StatusBadRequest,
	"bad_request":    http.StatusBadRequest,
	"cursor_expired": http.StatusGone,
	// A data export past its 24 hours (until the purge deletes it).
	"export_expired": http.StatusGone,
	// A WhatsApp feature the adapter cannot perform (SPEC §12).
	"not_supported": http.StatusNotImplemented,
}

// errInvalidJSON is the dedicated error for a body that is not the JSON
// object the route expects.
func errInvalidJSON(msg string) error {
	return ports.ReasonError(ports.EInvalid, "invalid_json", msg)
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Code      string         `json:"code"`
	RequestID string         `json:"requestId"`
	Errors    []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one invalid input field.
type ProblemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// internalDetail is all a client learns about a 500.
const internalDetail = "an internal error occurred; quote the request id when reporting it"

// problemFor builds the problem for err. The second result is false when
// err carries no ports.Error, that is an unexpected failure.
func problemFor(err error) (Problem, *ports.Error) {
	pe := ports.AsError(err)
	if pe == nil {
		pe = &ports.Error{Code: ports.EInternal}
	}
	kind, ok := errorTable[pe.Code]
	if !ok {
		kind = errorTable[ports.EInternal]
	}
	p := Problem{Status: kind.status, Code: kind.code, Detail: pe.Message}
	if pe.Reason != "" {
		p.Code = pe.Reason
		if s, ok := reasonStatus[pe.Reason]; ok {
			p.Status = s
		}
	}
	if p.Status == http.StatusInternalServerError {
		p.Code, p.Detail = kind.code, internalDetail
	}
	if p.Detail == "" {
		p.Detail = http.StatusText(p.Status)
	}
	for _, f := range pe.Fields {
		p.Errors = append(p.Errors, ProblemField(f))
	}
	p.Type = problemBase + p.Code
	p.Title = http.StatusText(p.Status)
	return p, pe
}

// abortWithError ends the request with the problem for err. Server-side
// failures are logged here, once, with the request id; their text never
// reaches the client.
func abortWithError(c *gin.Context, log *slog.Logger, err error) {
	p, pe := problemFor(err)
	p.RequestID = requestID(c)
	if p.Status >= 500 {
		log.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", p.RequestID),
			slog.String("route", routeOf(c)),
			slog.Int("status", p.Status),
			slog.String("error", err.Error()))
	}
	switch p.Status {
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="wagate"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if pe.RetryAfter > 0 {
			c.Header("Retry-After", retryAfter(pe.RetryAfter))
		}
	}
	writeProblem(c, p)
}

// writeProblem writes p and stops the handler chain.
func writeProblem(c *gin.Context, p Problem) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

// retryAfter renders a wait as whole seconds, rounded up and at least one,
// so that a client retrying on time is never early.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(ceilSeconds(d))
}

func ceilSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}

// fail ends a handler's request with err. The handlers are thin: decode,
// one core call, convert. Validation and authorization happen in the core.
func (a *api) fail(c *gin.Context, err error) { abortWithError(c, a.log, err) }
