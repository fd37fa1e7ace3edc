package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/cmd/wagate/app"
	"github.com/wagate/wagate/test/testserver"
)

// The tracing of SPEC §11: one text sent through the API is one trace,
// from the HTTP request through the database and the queue (a producer
// span, and the worker's consumer span linked to it) to the WhatsApp send
// and the webhook attempts it causes. The spans go to an in-memory
// exporter handed to the in-process server. They carry the subscription
// and instance, never the text or the recipient, and the customer's
// receiver gets no trace header. It runs with the embedded queue on
// SQLite and with asynq on PostgreSQL and Redis, whose commands are spans
// too.

// The instrumentation scopes of the SQL and Redis spans.
const (
	scopeSQL   = "github.com/XSAM/otelsql"
	scopeRedis = "github.com/redis/go-redis/extra/redisotel"
)

func TestTracing(t *testing.T) {
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			tracedSend(t, b)
		})
	}
}

func tracedSend(t *testing.T, b backend) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	env := map[string]string{
		"WAGATE_JWT_SECRET":            jwtSecret,
		"WAGATE_LOG_LEVEL":             "info",
		"WAGATE_AUTH_RATE_PER_MIN":     "100000",
		"WAGATE_WHATSAPP":              "sandbox",
		"WAGATE_SEND_DELAY":            "0",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
		"WAGATE_WEBHOOK_SCHEDULE":      webhookSchedule,
	}
	maps.Copy(env, b.env(t))
	srv, err := testserver.StartWith(context.Background(), env, app.Hooks{TracerProvider: tp})
	if err != nil {
		t.Fatalf("start server on %s: %v", b.name, err)
	}
	s := &ownedServer{server: server{Server: srv, hc: &http.Client{Timeout: 30 * time.Second}}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server logs (%s):\n%s", b.name, tail(srv.Logs(), 80))
		}
		if !s.stopped {
			s.stop(t)
		}
		tp.Shutdown(context.Background())
	})

	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "traced")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	rec := newReceiver(t)
	createWebhook(t, s, a.Access, inst, map[string]any{"url": rec.srv.URL + "/hook", "events": []string{"message.status"}})

	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	text := unique("confidential-text")
	r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": text})
	wantStatus(t, r, http.StatusAccepted)
	msgID := str(r.JSON, "id")

	// The webhook of the send, which the customer's receiver gets
	// without any trace header.
	deadline := time.After(flowWait)
	for sent := false; !sent; {
		select {
		case h := <-rec.hits:
			for k := range h.header {
				if k := strings.ToLower(k); k == "traceparent" || k == "tracestate" || k == "baggage" {
					t.Errorf("the receiver got our trace header %s", k)
				}
			}
			data, _ := h.env["data"].(map[string]any)
			sent = str(data, "messageId") == msgID && str(data, "status") == "sent"
		case <-deadline:
			t.Fatal("the receiver got no message.status sent for the message")
		}
	}

	// The spans of the trace; the last of them (the attempt's) ends when
	// the worker has read the answer, so wait for the set to be whole.
	var tr *traceView
	var missing []string
	for end := time.Now().Add(flowWait); ; {
		tr, missing = sendTrace(exp.GetSpans(), msgID, b.name == postgresRedis.name)
		if len(missing) == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the trace of the send lacks: %s", strings.Join(missing, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}

	server := tr.named("POST /api/v1/messages/text")[0]
	if server.SpanKind != trace.SpanKindServer || server.Parent.IsValid() {
		t.Errorf("HTTP span: got kind %v, parent %v; want a root server span", server.SpanKind, server.Parent)
	}
	wantSpanAttr(t, server, "wagate.subscription.id", a.SubID)
	wantSpanAttr(t, server, "wagate.instance.id", inst)
	wantSpanAttr(t, server, "http.response.status_code", "202")
	// The access log names the trace, to go from a log line to it.
	if want := `"trace_id":"` + server.SpanContext.TraceID().String() + `"`; !strings.Contains(srv.Logs(), want) {
		t.Errorf("the logs lack %s", want)
	}

	producer := tr.producerOf("message.send", msgID)
	consumer := tr.consumerOf("message.send", msgID)
	if !tr.under(producer, server) || !tr.under(consumer, producer) {
		t.Errorf("got producer under the request %v and worker under the producer %v; want both",
			tr.under(producer, server), tr.under(consumer, producer))
	}
	if !linked(consumer, producer) {
		t.Errorf("worker span links %v, want one to the producer %v", consumer.Links, producer.SpanContext.SpanID())
	}
	wantSpanAttr(t, consumer, "wagate.subscription.id", a.SubID)
	wantSpanAttr(t, consumer, "wagate.instance.id", inst)
	wantSpanAttr(t, consumer, "wagate.job.attempt", "1")

	send := tr.named("whatsapp.send")[0]
	if !tr.under(send, consumer) || send.SpanKind != trace.SpanKindClient {
		t.Errorf("whatsapp.send: got kind %v, under the worker %v; want a client span under it", send.SpanKind, tr.under(send, consumer))
	}
	wantSpanAttr(t, send, "wagate.instance.id", inst)
	wantSpanAttr(t, send, "wagate.message.kind", "text")

	var delivered bool
	for _, at := range tr.named("webhook.attempt") {
		var job *tracetest.SpanStub
		for _, c := range tr.named("process webhook.deliver") {
			if tr.under(at, c) {
				job = &c
			}
		}
		if job == nil || !tr.under(*job, consumer) {
			t.Errorf("webhook.attempt %v: want it under a webhook.deliver worker span under the send's worker", at.SpanContext.SpanID())
			continue
		}
		if p := tr.parentProducer(*job); p == nil || !linked(*job, *p) {
			t.Errorf("webhook.deliver worker %v: want it linked to its producer", job.SpanContext.SpanID())
		}
		if v, _ := value(at, "http.response.status_code"); v == "200" {
			delivered = true
		}
		wantSpanAttr(t, at, "wagate.subscription.id", a.SubID)
		wantSpanAttr(t, at, "wagate.instance.id", inst)
	}
	if !delivered {
		t.Error("got no webhook.attempt answered 200")
	}

	// The database spans of the request, and (with asynq) the Redis
	// spans of its enqueue, are in the trace.
	if n := tr.countScopeUnder(scopeSQL, server); n == 0 {
		t.Error("got no SQL span under the HTTP request")
	}
	if b.name == postgresRedis.name {
		if n := tr.countScopeUnder(scopeRedis, producer); n == 0 {
			t.Error("got no Redis span under the enqueue")
		}
	}

	// Nothing the customer's contact would call private is in a span.
	for _, st := range exp.GetSpans() {
		for _, kv := range st.Attributes {
			v := kv.Value.String()
			if strings.Contains(v, text) || strings.Contains(v, phone[1:]) {
				t.Errorf("span %q: attribute %s = %q holds the message's text or recipient", st.Name, kv.Key, v)
			}
		}
		if strings.Contains(st.Status.Description, phone[1:]) {
			t.Errorf("span %q: status %q holds the recipient", st.Name, st.Status.Description)
		}
	}
}

// traceView is the spans of one trace, by id.
type traceView struct {
	spans []tracetest.SpanStub
	byID  map[trace.SpanID]tracetest.SpanStub
}

// sendTrace finds the trace of the message's send and reports what it
// still lacks.
func sendTrace(all tracetest.SpanStubs, msgID string, redis bool) (*traceView, []string) {
	var root *tracetest.SpanStub
	for _, s := range all {
		if s.Name == "publish message.send" && attrIs(s, "messaging.message.id", msgID) {
			root = &s
		}
	}
	if root == nil {
		return nil, []string{"the message.send producer span"}
	}
	tr := &traceView{byID: map[trace.SpanID]tracetest.SpanStub{}}
	for _, s := range all {
		if s.SpanContext.TraceID() == root.SpanContext.TraceID() {
			tr.spans = append(tr.spans, s)
			tr.byID[s.SpanContext.SpanID()] = s
		}
	}
	var missing []string
	want := []string{"POST /api/v1/messages/text", "process message.send", "whatsapp.send", "process webhook.deliver", "webhook.attempt"}
	for _, name := range want {
		if len(tr.named(name)) == 0 {
			missing = append(missing, "a "+name+" span")
		}
	}
	// Parents end after their children: the attempt's chain up to the
	// send's worker is whole only once the delivery's worker has ended.
	ok := false
	worker := tr.consumerOf("message.send", msgID)
	for _, at := range tr.named("webhook.attempt") {
		if !tr.under(at, worker) {
			missing = append(missing, "the parents of a webhook.attempt")
			continue
		}
		if v, _ := value(at, "http.response.status_code"); v == "200" {
			ok = true
		}
	}
	if !ok {
		missing = append(missing, "a webhook.attempt answered 200")
	}
	if tr.countScope(scopeSQL) == 0 {
		missing = append(missing, "SQL spans")
	}
	if redis && tr.countScope(scopeRedis) == 0 {
		missing = append(missing, "Redis spans")
	}
	return tr, missing
}

func (tr *traceView) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range tr.spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (tr *traceView) producerOf(jobType, id string) tracetest.SpanStub {
	for _, s := range tr.named("publish " + jobType) {
		if attrIs(s, "messaging.message.id", id) && s.SpanKind == trace.SpanKindProducer {
			return s
		}
	}
	return tracetest.SpanStub{}
}

func (tr *traceView) consumerOf(jobType, id string) tracetest.SpanStub {
	for _, s := range tr.named("process " + jobType) {
		if attrIs(s, "messaging.message.id", id) && s.SpanKind == trace.SpanKindConsumer {
			return s
		}
	}
	return tracetest.SpanStub{}
}

// parentProducer returns the producer span a consumer span hangs under.
func (tr *traceView) parentProducer(s tracetest.SpanStub) *tracetest.SpanStub {
	p, ok := tr.byID[s.Parent.SpanID()]
	if !ok || p.SpanKind != trace.SpanKindProducer {
		return nil
	}
	return &p
}

// under reports whether s descends from ancestor.
func (tr *traceView) under(s, ancestor tracetest.SpanStub) bool {
	for i := 0; i < 100 && s.Parent.IsValid(); i++ {
		if s.Parent.SpanID() == ancestor.SpanContext.SpanID() {
			return true
		}
		p, ok := tr.byID[s.Parent.SpanID()]
		if !ok {
			return false
		}
		s = p
	}
	return false
}

func (tr *traceView) countScope(scope string) int {
	n := 0
	for _, s := range tr.spans {
		if s.InstrumentationScope.Name == scope {
			n++
		}
	}
	return n
}

func (tr *traceView) countScopeUnder(scope string, ancestor tracetest.SpanStub) int {
	n := 0
	for _, s := range tr.spans {
		if s.InstrumentationScope.Name == scope && tr.under(s, ancestor) {
			n++
		}
	}
	return n
}

func linked(s, to tracetest.SpanStub) bool {
	for _, l := range s.Links {
		if l.SpanContext.SpanID() == to.SpanContext.SpanID() && to.SpanContext.IsValid() {
			return true
		}
	}
	return false
}

func value(s tracetest.SpanStub, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == attribute.Key(key) {
			return kv.Value.String(), true
		}
	}
	return "", false
}

func attrIs(s tracetest.SpanStub, key, want string) bool {
	v, ok := value(s, key)
	return ok && v == want
}

func wantSpanAttr(t *testing.T, s tracetest.SpanStub, key, want string) {
	t.Helper()
	if v, ok := value(s, key); !ok || v != want {
		t.Errorf("span %q: got %s = %q (present %v), want %q", s.Name, key, v, ok, want)
	}
}
