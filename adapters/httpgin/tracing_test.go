package httpgin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/adapters/tracing"
)

// With a tracer provider, each request but the probes gets a server span
// named after its route, continuing the caller's traceparent, tagged with
// the subscription the credentials say, never the one the caller's
// baggage claims; the access log names the trace.
func TestTracingMiddleware(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	e := newTestEnv(t, Options{TracerProvider: tp})
	access, _ := e.account("trace@example.com")
	exp.Reset()

	for _, path := range []string{"/healthz", "/metrics", "/readyz"} {
		e.do(req{method: "GET", path: path})
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("got %d spans for the probes, want none", n)
	}

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	w := e.do(req{method: "GET", path: "/api/v1/me", token: access, header: map[string]string{
		"traceparent": parent,
		"baggage":     string(tracing.AttrSubscription) + "=someone-else," + string(tracing.AttrInstance) + "=not-mine",
	}})
	if w.Code != http.StatusOK {
		t.Fatalf("GET /me: got %d %s", w.Code, w.Body)
	}
	var me struct {
		Subscription struct {
			ID string `json:"id"`
		} `json:"subscription"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || me.Subscription.ID == "" {
		t.Fatalf("decode /me %s: %v", w.Body, err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want the one of GET /me", len(spans))
	}
	s := spans[0]
	if s.Name != "GET /api/v1/me" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("got span %q kind %v, want a server span GET /api/v1/me", s.Name, s.SpanKind)
	}
	if got := s.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("got trace %s, want the caller's", got)
	}
	attrs := map[string]string{}
	for _, kv := range s.Attributes {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	if attrs[string(tracing.AttrSubscription)] != me.Subscription.ID {
		t.Errorf("got subscription attribute %q, want the caller's own %q", attrs[string(tracing.AttrSubscription)], me.Subscription.ID)
	}
	if v, ok := attrs[string(tracing.AttrInstance)]; ok {
		t.Errorf("got instance attribute %q for a user token on /me, want none", v)
	}
	if want := `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`; !strings.Contains(e.logs.String(), want) {
		t.Errorf("the access log lacks %s", want)
	}

	// The caller's baggage never reaches the handlers, where it would
	// travel on to the jobs as the tenant.
	e.engine.GET("/test/baggage", func(c *gin.Context) { c.String(http.StatusOK, baggage.FromContext(c.Request.Context()).String()) })
	w = e.do(req{method: "GET", path: "/test/baggage", header: map[string]string{"baggage": string(tracing.AttrInstance) + "=not-mine"}})
	if w.Code != http.StatusOK || w.Body.String() != "" {
		t.Errorf("got %d with baggage %q in the handler, want none", w.Code, w.Body)
	}
}

// Without a tracer provider nothing is traced and the log names no trace.
func TestNoTracingByDefault(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.do(req{method: "GET", path: "/api/v1/me", header: map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
	if strings.Contains(e.logs.String(), "trace_id") {
		t.Errorf("got a trace id in the log with tracing off: %s", e.logs.String())
	}
}
