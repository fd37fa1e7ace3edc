package tracing

import (
	"context"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// InTraceOnly returns a provider whose tracers start spans only inside a
// trace, and otherwise return the context unchanged with a no-op span.
// It is for the database and Redis instrumentations: the queue runners
// poll, the relays and lease renewals tick, and each of those queries as
// a trace of its own would drown the traces of real work. Nil gives nil.
func InTraceOnly(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return nil
	}
	return inTraceProvider{tp: tp}
}

type inTraceProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p inTraceProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return inTraceTracer{t: p.tp.Tracer(name, opts...)}
}

type inTraceTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (t inTraceTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.t.Start(ctx, name, opts...)
}

// InstrumentRedis adds client spans to c's commands, inside traces only
// (see InTraceOnly). The commands' arguments are left out: they hold job
// payloads, that is message content. With a nil tp it does nothing.
func InstrumentRedis(c redis.UniversalClient, tp trace.TracerProvider) error {
	if tp == nil {
		return nil
	}
	return redisotel.InstrumentTracing(c,
		redisotel.WithTracerProvider(InTraceOnly(tp)),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	)
}
