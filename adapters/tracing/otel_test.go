package tracing

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/capstest"
)

// recorder is a tracer provider whose spans the test reads back.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, exp
}

// spanNamed returns the one ended span called name.
func spanNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d spans named %q, want 1", len(found), name)
	}
	return found[0]
}

func attrOf(s tracetest.SpanStub, k attribute.Key) (attribute.Value, bool) {
	for _, a := range s.Attributes {
		if a.Key == k {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t *testing.T, s tracetest.SpanStub, k attribute.Key, want string) {
	t.Helper()
	v, ok := attrOf(s, k)
	if !ok || v.String() != want {
		t.Errorf("span %q: got %s = %q (present %v), want %q", s.Name, k, v.String(), ok, want)
	}
}

// noValueContains fails if any attribute of any span holds one of the
// secrets.
func noValueContains(t *testing.T, exp *tracetest.InMemoryExporter, secrets ...string) {
	t.Helper()
	for _, s := range exp.GetSpans() {
		for _, a := range s.Attributes {
			for _, secret := range secrets {
				if strings.Contains(a.Value.String(), secret) {
					t.Errorf("span %q: attribute %s = %q holds %q", s.Name, a.Key, a.Value.String(), secret)
				}
			}
		}
		if strings.Contains(s.Status.Description, secrets[0]) {
			t.Errorf("span %q: status %q holds %q", s.Name, s.Status.Description, secrets[0])
		}
	}
}

type fakeQueue struct{ jobs []ports.Job }

func (q *fakeQueue) Enqueue(_ context.Context, j ports.Job) error {
	q.jobs = append(q.jobs, j)
	return nil
}

type fakeRunner struct{ handlers map[string]ports.Handler }

func (r *fakeRunner) Handle(typ string, h ports.Handler, _ ports.HandlerOptions) {
	if r.handlers == nil {
		r.handlers = map[string]ports.Handler{}
	}
	r.handlers[typ] = h
}
func (r *fakeRunner) Run(context.Context) error { return nil }

// The producer span's context and the tenant travel in Job.Trace; the
// consumer span is the producer's child, linked to it, tagged with the
// job and the tenant.
func TestQueueAndRunnerPropagate(t *testing.T) {
	tp, exp := recorder(t)
	inner := &fakeQueue{}
	q := Queue(inner, tp, "localqueue")
	runner := &fakeRunner{}
	r := Runner(runner, tp, "localqueue")

	ctx, root := tp.Tracer("test").Start(context.Background(), "request")
	ctx = WithTenant(ctx, "sub-1", "inst-1")
	callerTrace := map[string]string{"kept": "yes"}
	if err := q.Enqueue(ctx, ports.Job{ID: "msg-1", Type: "message.send", Payload: []byte("secret text"), Trace: callerTrace}); err != nil {
		t.Fatal(err)
	}
	root.End()
	if len(callerTrace) != 1 {
		t.Errorf("the caller's Trace map was written: %v", callerTrace)
	}
	job := inner.jobs[0]
	if job.Trace["kept"] != "yes" || job.Trace["traceparent"] == "" || !strings.Contains(job.Trace["baggage"], "inst-1") {
		t.Errorf("got Trace %v, want the caller's entry, a traceparent and the tenant baggage", job.Trace)
	}
	producer := spanNamed(t, exp, "publish message.send")
	if producer.SpanKind != trace.SpanKindProducer || producer.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("producer: got kind %v parent %v, want a producer span under the request", producer.SpanKind, producer.Parent.SpanID())
	}
	wantAttr(t, producer, attrDestination, "message.send")
	wantAttr(t, producer, attrMessageID, "msg-1")
	wantAttr(t, producer, AttrSubscription, "sub-1")

	var handled context.Context
	r.Handle("message.send", func(ctx context.Context, d ports.Delivery) error {
		handled = ctx
		return ports.ReasonError(ports.EConflict, "instance_not_connected", "the instance +15550001111 is not connected")
	}, ports.HandlerOptions{})
	err := runner.handlers["message.send"](context.Background(), ports.Delivery{Job: job, Attempt: 2})
	if err == nil {
		t.Fatal("got no error from the handler, want its error passed through")
	}
	consumer := spanNamed(t, exp, "process message.send")
	if consumer.SpanKind != trace.SpanKindConsumer {
		t.Errorf("consumer: got kind %v, want consumer", consumer.SpanKind)
	}
	if consumer.Parent.SpanID() != producer.SpanContext.SpanID() || consumer.SpanContext.TraceID() != producer.SpanContext.TraceID() {
		t.Errorf("consumer: got parent %v, want the producer %v in its trace", consumer.Parent.SpanID(), producer.SpanContext.SpanID())
	}
	if len(consumer.Links) != 1 || consumer.Links[0].SpanContext.SpanID() != producer.SpanContext.SpanID() {
		t.Errorf("consumer: got links %v, want one to the producer", consumer.Links)
	}
	wantAttr(t, consumer, attrAttempt, "2")
	wantAttr(t, consumer, AttrInstance, "inst-1")
	wantAttr(t, consumer, attrErrorType, "instance_not_connected")
	wantAttr(t, consumer, attrRetry, "false")
	if consumer.Status.Code != codes.Error {
		t.Errorf("consumer: got status %v, want error", consumer.Status)
	}
	if got := trace.SpanContextFromContext(handled); got.SpanID() != consumer.SpanContext.SpanID() {
		t.Errorf("the handler's ctx holds span %v, want the consumer span", got.SpanID())
	}
	noValueContains(t, exp, "+15550001111", "secret text")
}

// A job enqueued outside any trace (a relay) still propagates its own
// producer span; a job with no Trace at all gets a consumer span of its own.
func TestRunnerWithoutProducer(t *testing.T) {
	tp, exp := recorder(t)
	runner := &fakeRunner{}
	Runner(runner, tp, "asynq").Handle("webhook.deliver", func(context.Context, ports.Delivery) error { return nil }, ports.HandlerOptions{})
	if err := runner.handlers["webhook.deliver"](context.Background(), ports.Delivery{Job: ports.Job{ID: "d:0", Type: "webhook.deliver"}, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	s := spanNamed(t, exp, "process webhook.deliver")
	if s.Parent.IsValid() || len(s.Links) != 0 || s.Status.Code == codes.Error {
		t.Errorf("got parent %v, links %v, status %v; want a root span, no link, no error", s.Parent, s.Links, s.Status)
	}
}

// Decorating keeps the optional capabilities; a nil provider decorates
// nothing.
func TestDecoratorsKeepCapabilities(t *testing.T) {
	tp, _ := recorder(t)
	capstest.Queue(t, func(q ports.Queue) ports.Queue { return Queue(q, tp, "asynq") })
	capstest.WhatsApp(t, func(w ports.WhatsApp) ports.WhatsApp { return WhatsApp(w, tp) })
	q, r, wa := &fakeQueue{}, &fakeRunner{}, &fakeWhatsApp{}
	if Queue(q, nil, "x") != ports.Queue(q) || Runner(r, nil, "x") != ports.Runner(r) || WhatsApp(wa, nil) != ports.WhatsApp(wa) {
		t.Error("a nil provider decorated something")
	}
	hc := &http.Client{}
	if WebhookClient(hc, nil) != hc || InTraceOnly(nil) != nil || InstrumentRedis(nil, nil) != nil {
		t.Error("a nil provider instrumented something")
	}
}

type fakeWhatsApp struct {
	ports.WhatsApp // only Send is called
	err            error
}

func (f *fakeWhatsApp) Send(context.Context, ports.InstanceID, ports.WAOutbound) (ports.WASent, error) {
	return ports.WASent{WAMessageID: "wa-1"}, f.err
}

func TestWhatsAppSendSpan(t *testing.T) {
	tp, exp := recorder(t)
	wa := WhatsApp(&fakeWhatsApp{}, tp)
	ctx, root := tp.Tracer("test").Start(context.Background(), "job")
	m := ports.WAOutbound{To: "15550001111@s.whatsapp.net", Media: &ports.WAMedia{Kind: ports.MediaImage, Data: []byte("png")}, Caption: "a private caption"}
	if _, err := wa.Send(ctx, "inst-9", m); err != nil {
		t.Fatal(err)
	}
	root.End()
	s := spanNamed(t, exp, "whatsapp.send")
	if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("got kind %v parent %v, want a client span under the job", s.SpanKind, s.Parent.SpanID())
	}
	wantAttr(t, s, AttrInstance, "inst-9")
	wantAttr(t, s, attrMessageKind, "media")
	wantAttr(t, s, attrMediaKind, "image")
	noValueContains(t, exp, "15550001111", "a private caption")

	failing := WhatsApp(&fakeWhatsApp{err: errors.New("send to 15550001111@s.whatsapp.net: refused")}, tp)
	if _, err := failing.Send(context.Background(), "inst-9", ports.WAOutbound{Text: "hi"}); err == nil {
		t.Fatal("got no error, want the adapter's")
	}
	noValueContains(t, exp, "15550001111")
}

// A webhook attempt is a client span that ends with the answer's body and
// sends the receiver no trace header; the URL's path and query stay out.
func TestWebhookClientSpan(t *testing.T) {
	tp, exp := recorder(t)
	headers := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "thanks")
	}))
	defer srv.Close()
	hc := WebhookClient(srv.Client(), tp)

	ctx, root := tp.Tracer("test").Start(context.Background(), "process webhook.deliver")
	ctx = WithTenant(ctx, "sub-2", "inst-2")
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/hook/tok_SECRET?key=SECRET", strings.NewReader("{}"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("got %d ended spans before the body was read, want 0", n)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	root.End()

	for k := range <-headers {
		if k := strings.ToLower(k); k == "traceparent" || k == "tracestate" || k == "baggage" {
			t.Errorf("the receiver got our header %s", k)
		}
	}
	s := spanNamed(t, exp, "webhook.attempt")
	if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("got kind %v parent %v, want a client span under the job", s.SpanKind, s.Parent.SpanID())
	}
	wantAttr(t, s, attrStatusCode, "202")
	wantAttr(t, s, attrMethod, "POST")
	wantAttr(t, s, attrServerAddr, "127.0.0.1")
	wantAttr(t, s, AttrSubscription, "sub-2")
	noValueContains(t, exp, "SECRET")

	// A refused connection fails the span with its kind only.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/hook?key=SECRET"
	dead.Close()
	req, _ = http.NewRequest("POST", url, nil)
	if _, err := hc.Do(req); err == nil {
		t.Fatal("got no error from a closed server")
	}
	var failed int
	for _, s := range exp.GetSpans() {
		if s.Name == "webhook.attempt" && s.Status.Code == codes.Error {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("got %d failed attempt spans, want 1", failed)
	}
	noValueContains(t, exp, "SECRET")
}

// InTraceOnly starts spans under a parent and none without one.
func TestInTraceOnly(t *testing.T) {
	tp, exp := recorder(t)
	tr := InTraceOnly(tp).Tracer("db")
	ctx, span := tr.Start(context.Background(), "orphan")
	span.End()
	if span.SpanContext().IsValid() || trace.SpanFromContext(ctx).SpanContext().IsValid() {
		t.Error("got a span without a parent, want a no-op")
	}
	pctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	_, child := tr.Start(pctx, "query")
	child.End()
	parent.End()
	if got := len(exp.GetSpans()); got != 2 {
		t.Errorf("got %d spans, want the parent and its query", got)
	}
}

// WithTenant does not let a long value through, and does nothing outside
// a recording span.
func TestWithTenant(t *testing.T) {
	tp, exp := recorder(t)
	if ctx := WithTenant(context.Background(), "s", "i"); len(tenantAttrs(ctx)) != 0 {
		t.Error("got tenant baggage without a span, want none")
	}
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	ctx = WithTenant(ctx, "sub", strings.Repeat("x", maxIDLen+1))
	span.End()
	if got := tenantAttrs(ctx); len(got) != 1 || got[0].Key != AttrSubscription {
		t.Errorf("got %v, want only the subscription", got)
	}
	if _, ok := attrOf(spanNamed(t, exp, "request"), AttrInstance); ok {
		t.Error("the span got an over-long instance id")
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		enabled bool
		err     string
	}{
		{"default is off", Config{}, false, ""},
		{"an endpoint turns it on", Config{Endpoint: "http://127.0.0.1:4318"}, true, ""},
		{"otlp without endpoint uses the default", Config{Exporter: "otlp"}, true, ""},
		{"none wins over an endpoint", Config{Exporter: "none", Endpoint: "http://127.0.0.1:4318"}, false, ""},
		{"disabled wins", Config{Disabled: true, Exporter: "otlp"}, false, ""},
		{"unknown exporter", Config{Exporter: "zipkin"}, false, "OTEL_TRACES_EXPORTER"},
		{"grpc refused", Config{Endpoint: "http://127.0.0.1:4317", Protocol: "grpc"}, true, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"bad endpoint", Config{Endpoint: "127.0.0.1:4318"}, true, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"bad sampler", Config{Sampler: "jaeger_remote"}, false, "OTEL_TRACES_SAMPLER"},
		{"bad ratio", Config{Sampler: "traceidratio", SamplerArg: "2"}, false, "OTEL_TRACES_SAMPLER_ARG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Enabled(); got != tc.enabled {
				t.Errorf("got Enabled %v, want %v", got, tc.enabled)
			}
			err := tc.cfg.Validate()
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("got Validate error %v, want one naming %q", err, tc.err)
			}
		})
	}
	if got := (Config{Endpoint: "http://c:4318/"}).tracesURL(); got != "http://c:4318/v1/traces" {
		t.Errorf("got %q, want the base URL's /v1/traces", got)
	}
	if got := (Config{Endpoint: "http://c:4318", TracesEndpoint: "https://t/x"}).tracesURL(); got != "https://t/x" {
		t.Errorf("got %q, want the traces endpoint as is", got)
	}
}

func TestSetup(t *testing.T) {
	tp, err := Setup(t.Context(), Config{})
	if err != nil || tp != nil {
		t.Fatalf("got %v, %v; want no provider when off", tp, err)
	}
	if _, err := Setup(t.Context(), Config{Exporter: "bogus"}); err == nil {
		t.Error("got no error for a bad exporter")
	}
	tp, err = Setup(t.Context(), Config{Endpoint: "http://127.0.0.1:1", InstanceID: "node-a",
		Resource: map[string]string{"deployment.environment.name": "test", "service.name": "ignored"}})
	if err != nil || tp == nil {
		t.Fatalf("got %v, %v; want a provider", tp, err)
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Errorf("shutdown with nothing to flush: %v", err)
	}
	res := Config{ServiceName: "gw", InstanceID: "node-a", Resource: map[string]string{"service.name": "x", "team": "ops"}}.resource()
	want := map[string]string{"service.name": "gw", "service.instance.id": "node-a", "team": "ops"}
	for _, kv := range res.Attributes() {
		if w, ok := want[string(kv.Key)]; ok && kv.Value.String() != w {
			t.Errorf("resource %s: got %q, want %q", kv.Key, kv.Value.String(), w)
		}
		delete(want, string(kv.Key))
	}
	if len(want) > 0 {
		t.Errorf("resource lacks %v", want)
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList(" authorization=Bearer%20abc , x-team=ops,,")
	if err != nil || got["authorization"] != "Bearer abc" || got["x-team"] != "ops" || len(got) != 2 {
		t.Errorf("got %v, %v; want two decoded pairs", got, err)
	}
	for _, bad := range []string{"novalue", "=v", "k=%zz"} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q): got no error", bad)
		}
	}
	if _, err := ParseList("token=SECRET-VALUE-NOEQ,bare"); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("got %v, want an error that does not echo the value", err)
	}
}

// The OTLP exporter posts to the collector's /v1/traces with the
// configured headers, and Shutdown flushes what is buffered.
func TestSetupExportsOverOTLP(t *testing.T) {
	type post struct {
		path, auth, contentType string
		size                    int
	}
	posts := make(chan post, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		posts <- post{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), len(body)}
	}))
	defer collector.Close()
	tp, err := Setup(t.Context(), Config{Endpoint: collector.URL, Headers: map[string]string{"Authorization": "Bearer collector-key"}})
	if err != nil || tp == nil {
		t.Fatalf("got %v, %v; want a provider", tp, err)
	}
	_, span := tp.Tracer("test").Start(t.Context(), "one")
	span.End()
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case p := <-posts:
		if p.path != "/v1/traces" || p.auth != "Bearer collector-key" || p.contentType != "application/x-protobuf" || p.size == 0 {
			t.Errorf("got %+v, want a protobuf POST to /v1/traces with the configured header", p)
		}
	default:
		t.Fatal("the collector got nothing")
	}
}
