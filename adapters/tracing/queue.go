package tracing

import (
	"context"
	"maps"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/ports"
)

// ScopeName names wagate's own instrumentation.
const ScopeName = "github.com/wagate/wagate/adapters/tracing"

// propagator carries the trace context and the tenant baggage through
// ports.Job.Trace.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// The job attributes, after the OpenTelemetry messaging conventions.
const (
	attrSystem      = attribute.Key("messaging.system")
	attrOperation   = attribute.Key("messaging.operation.type")
	attrOpName      = attribute.Key("messaging.operation.name")
	attrDestination = attribute.Key("messaging.destination.name")
	attrMessageID   = attribute.Key("messaging.message.id")
	attrAttempt     = attribute.Key("wagate.job.attempt")
	attrRetry       = attribute.Key("wagate.job.retry")
)

// tracedQueue makes a producer span for each enqueue and injects its
// context into the job.
type tracedQueue struct {
	next   ports.Queue
	tracer trace.Tracer
	system string
}

var _ ports.Queue = (*tracedQueue)(nil)

// Queue decorates q with producer spans; system names the queue's
// technology (asynq, localqueue). The result keeps q's optional
// capabilities. With a nil tp it returns q itself.
func Queue(q ports.Queue, tp trace.TracerProvider, system string) ports.Queue {
	if tp == nil {
		return q
	}
	return ports.KeepQueueCapabilities(&tracedQueue{next: q, tracer: tp.Tracer(ScopeName), system: system}, q)
}

// Enqueue implements ports.Queue. The span's context goes into a copy of
// j.Trace, so the caller's map is never written.
func (q *tracedQueue) Enqueue(ctx context.Context, j ports.Job) error {
	attrs := append([]attribute.KeyValue{
		attrSystem.String(q.system), attrOperation.String("send"), attrOpName.String("publish"),
		attrDestination.String(j.Type), attrMessageID.String(j.ID),
	}, tenantAttrs(ctx)...)
	ctx, span := q.tracer.Start(ctx, "publish "+j.Type, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	defer span.End()
	carrier := propagation.MapCarrier(maps.Clone(j.Trace))
	if carrier == nil {
		carrier = propagation.MapCarrier{}
	}
	propagator.Inject(ctx, carrier)
	j.Trace = carrier
	err := q.next.Enqueue(ctx, j)
	// A conflict is the queue refusing a duplicate, which relays cause
	// on purpose: not a failure of the trace.
	if err != nil && !ports.IsCode(err, ports.EConflict) {
		fail(span, err)
	}
	return err
}

// tracedRunner wraps every handler in a consumer span.
type tracedRunner struct {
	next   ports.Runner
	tracer trace.Tracer
	system string
}

var _ ports.Runner = (*tracedRunner)(nil)

// Runner decorates r: each run of a job gets a consumer span, a child of
// the producer span whose context the job carries and linked to it. The
// link is the messaging conventions' relation between the two; the parent
// keeps one message, from its HTTP request to its webhooks, in one trace,
// as SPEC §11 asks. With a nil tp it returns r itself.
func Runner(r ports.Runner, tp trace.TracerProvider, system string) ports.Runner {
	if tp == nil {
		return r
	}
	return &tracedRunner{next: r, tracer: tp.Tracer(ScopeName), system: system}
}

// Handle implements ports.Runner.
func (r *tracedRunner) Handle(jobType string, h ports.Handler, opt ports.HandlerOptions) {
	r.next.Handle(jobType, r.wrap(jobType, h), opt)
}

// Run implements ports.Runner.
func (r *tracedRunner) Run(ctx context.Context) error { return r.next.Run(ctx) }

func (r *tracedRunner) wrap(jobType string, h ports.Handler) ports.Handler {
	return func(ctx context.Context, d ports.Delivery) error {
		ctx = propagator.Extract(ctx, propagation.MapCarrier(d.Trace))
		attrs := append([]attribute.KeyValue{
			attrSystem.String(r.system), attrOperation.String("process"), attrOpName.String("process"),
			attrDestination.String(jobType), attrMessageID.String(d.ID), attrAttempt.Int(d.Attempt),
		}, tenantAttrs(ctx)...)
		opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)}
		if producer := trace.SpanContextFromContext(ctx); producer.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: producer}))
		}
		ctx, span := r.tracer.Start(ctx, "process "+jobType, opts...)
		defer span.End()
		err := h(ctx, d)
		if err != nil {
			retry := ports.RetryFor(err)
			span.SetAttributes(attrRetry.Bool(retry.Retry))
			fail(span, err)
		}
		return err
	}
}
