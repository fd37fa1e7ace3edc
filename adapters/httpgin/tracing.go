package httpgin

import (
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/adapters/tracing"
)

// untraced are the routes scraped or probed every few seconds, whose
// traces would only bury the requests that do something, and the event
// stream, whose span would last as long as the connection: hours.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/api/v1/events/ws": true}

// traceRequests starts the server span of each request, named after its route
// template (POST /api/v1/instances/:id/messages/text). A caller's
// traceparent is honoured, so a traced client sees wagate in its trace;
// its baggage is not, so that only wagate says whose request it is.
func traceRequests(tp trace.TracerProvider) gin.HandlerFunc {
	return otelgin.Middleware("",
		otelgin.WithTracerProvider(tp),
		otelgin.WithPropagators(propagation.TraceContext{}),
		// The HTTP metrics are Prometheus's (metrics.go).
		otelgin.WithMeterProvider(noop.NewMeterProvider()),
		otelgin.WithGinFilter(func(c *gin.Context) bool { return !untraced[c.FullPath()] }),
	)
}

// traceTenant, after authentication, tags the request's span with the
// caller's subscription and instance and passes them on as baggage to
// the jobs the request enqueues. The instance is the API key's, else the
// one in an /instances/:id path (as in the access log).
func (a *api) traceTenant(c *gin.Context) {
	if a.opt.TracerProvider == nil {
		c.Next()
		return
	}
	p, ok := principalOf(c)
	if !ok {
		c.Next()
		return
	}
	instance := string(p.InstanceID)
	if r := c.FullPath(); instance == "" && (strings.HasPrefix(r, "/api/v1/instances/:id") || strings.HasPrefix(r, "/api/v1/sandbox/instances/:id")) {
		instance = c.Param("id")
	}
	c.Request = c.Request.WithContext(tracing.WithTenant(c.Request.Context(), string(p.SubscriptionID), instance))
	c.Next()
}
