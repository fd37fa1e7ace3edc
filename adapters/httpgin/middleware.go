package httpgin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/ports"
)

// Context keys of the values middleware hands to later middleware.
const (
	keyRequestID = "wagate.requestID"
	keyPrincipal = "wagate.principal"
	keyRate      = "wagate.rate"
)

// HeaderRequestID carries the request id both ways.
const HeaderRequestID = "X-Request-Id"

// withRequestID keeps a sane incoming X-Request-Id (so that ids from a load
// balancer correlate) and makes one otherwise.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Set(keyRequestID, id)
		c.Header(HeaderRequestID, id)
		c.Next()
	}
}

// saneRequestID accepts 1–128 characters of [A-Za-z0-9._:-]: enough for
// UUIDs and trace ids, nothing that could forge a log line or a header.
func saneRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == ':' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// requestID returns the id withRequestID chose.
func requestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// routeOf is the route template of the request, bounded for metrics and
// logs: requests that matched no route share one label.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// jsonCSP is the policy of every response but /docs: JSON needs nothing.
const jsonCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// hstsValue asks browsers to use HTTPS for two years.
const hstsValue = "max-age=63072000; includeSubDomains"

// securityHeaders sets the headers every response carries. Handlers that
// serve HTML replace the Content-Security-Policy with their own.
func securityHeaders(tls bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", jsonCSP)
		h.Set("Cache-Control", "no-store")
		if tls || c.Request.TLS != nil {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		c.Next()
	}
}

// The CORS vocabulary: what browsers may send and read.
var (
	corsMethods = "GET, POST, PATCH, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
	corsExpose  = "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, " +
		"X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
)

// cors lets the configured origins (exact match) call the API from a
// browser. Preflights are answered here, before routing; a preflight from
// another origin gets a 204 without CORS headers, which the browser treats
// as a refusal. No credentials mode: the API takes bearer tokens, not cookies.
func cors(origins []string) gin.HandlerFunc {
	allowed := slices.Clone(origins)
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		ok := origin != "" && slices.Contains(allowed, origin)
		if origin != "" {
			c.Writer.Header().Add("Vary", "Origin")
		}
		preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
		if ok {
			h := c.Writer.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			if preflight {
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", "600")
			} else {
				h.Set("Access-Control-Expose-Headers", corsExpose)
			}
		}
		if preflight {
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// limitBody caps every request body: media sends at mediaLimit, the rest
// at limit. A declared length over the limit is refused at once; an
// undeclared one is cut by http.MaxBytesReader, whose error the decoders
// turn into the same 413. The route is known here: gin matches it before
// the middleware chain runs.
func limitBody(limit, mediaLimit int64, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		max := limit
		if isMediaSend(c.Request.Method, c.FullPath()) {
			max = mediaLimit
		}
		if c.Request.ContentLength > max {
			abortWithError(c, log, tooLarge(max))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// isMediaSend reports whether a route is one of the media sends.
func isMediaSend(method, route string) bool {
	if method != http.MethodPost || !strings.HasPrefix(route, "/api/v1/") {
		return false
	}
	for _, kind := range []string{"/messages/image", "/messages/document", "/messages/audio"} {
		if strings.HasSuffix(route, kind) {
			return true
		}
	}
	return false
}

// mediaBodyLimit fits a file of MaxMediaBytes as base64 (4 bytes per 3)
// plus the other fields, or as a multipart part plus its headers: the file
// limit itself is applied to the decoded bytes, so that 10 MB means the
// same in both forms.
func mediaBodyLimit(o Options) int64 {
	return max(o.MaxBodyBytes, o.MaxMediaBytes/3*4+64<<10)
}

func tooLarge(limit int64) error {
	return ports.ReasonError(ports.ETooLarge, "payload_too_large",
		fmt.Sprintf("the request body is over the limit of %d bytes", limit))
}

// recoverPanics turns a panic into a 500 problem, logged with its stack.
// http.ErrAbortHandler keeps its meaning: the connection is dropped.
func recoverPanics(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			log.LogAttrs(c.Request.Context(), slog.LevelError, "panic",
				slog.String("request_id", requestID(c)),
				slog.Any("panic", v),
				slog.String("stack", string(debug.Stack())))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			writeProblem(c, problemInternal(c))
		}()
		c.Next()
	}
}

// problemInternal is the 500 problem, without the logging abortWithError
// does: the panic was already logged with more detail.
func problemInternal(c *gin.Context) Problem {
	p, _ := problemFor(errors.New("panic"))
	p.RequestID = requestID(c)
	return p
}

// accessLog writes one JSON line per request. Only the path is logged, never
// the query (a browser's WebSocket passes its token there), bodies or
// headers.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", routeOf(c)),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.Duration("latency", time.Since(start)),
			slog.String("ip", c.ClientIP()),
		}
		instance := c.Param("id")
		if r := routeOf(c); !strings.HasPrefix(r, "/api/v1/instances/") && !strings.HasPrefix(r, "/api/v1/sandbox/instances/") {
			instance = ""
		}
		if p, ok := principalOf(c); ok {
			attrs = append(attrs, slog.String("subscription_id", string(p.SubscriptionID)))
			if p.InstanceID != "" {
				instance = string(p.InstanceID)
			}
		}
		if instance != "" {
			attrs = append(attrs, slog.String("instance_id", instance))
		}
		// Set when tracing is on (tracing.go), to find the request's trace.
		if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}
