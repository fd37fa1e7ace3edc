package tracing

import (
	"io"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The HTTP client attributes of a webhook attempt. The URL itself is left
// out: customers put tokens in their webhook URLs' paths and queries.
const (
	attrMethod     = attribute.Key("http.request.method")
	attrServerAddr = attribute.Key("server.address")
	attrServerPort = attribute.Key("server.port")
	attrStatusCode = attribute.Key("http.response.status_code")
)

// WebhookClient returns a copy of c whose requests each get a client
// span, "webhook.attempt", ending when the answer's body is closed. No
// trace header is added to the request: the trace is wagate's business,
// not the customer's. With a nil tp it returns c itself.
func WebhookClient(c *http.Client, tp trace.TracerProvider) *http.Client {
	if tp == nil {
		return c
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cc := *c
	cc.Transport = &attemptTransport{next: next, tracer: tp.Tracer(ScopeName)}
	return &cc
}

type attemptTransport struct {
	next   http.RoundTripper
	tracer trace.Tracer
}

// RoundTrip implements http.RoundTripper.
func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	attrs := append(tenantAttrs(ctx), attrMethod.String(req.Method), attrServerAddr.String(req.URL.Hostname()))
	if port := req.URL.Port(); port != "" {
		if n, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, attrServerPort.Int(n))
		}
	}
	_, span := t.tracer.Start(ctx, "webhook.attempt", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	// The request goes out as it came: no traceparent, no tracestate.
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		fail(span, err)
		span.End()
		return nil, err
	}
	span.SetAttributes(attrStatusCode.Int(resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetAttributes(attrErrorType.String(strconv.Itoa(resp.StatusCode)))
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

// spanBody ends the attempt's span when the answer has been read or
// closed, so that the span covers the whole exchange.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.end()
	case err != nil:
		fail(b.span, err)
	}
	return n, err
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.end()
	return err
}

func (b *spanBody) end() { b.once.Do(func() { b.span.End() }) }
