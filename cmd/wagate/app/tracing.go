package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/adapters/tracing"
)

// loadTracing reads the OTEL_* settings; v gives a setting or its default,
// fail records an error for loadConfig to report.
func loadTracing(v func(string) string, node string, fail func(string, error)) tracing.Config {
	c := tracing.Config{
		Exporter:       v("OTEL_TRACES_EXPORTER"),
		Endpoint:       v("OTEL_EXPORTER_OTLP_ENDPOINT"),
		TracesEndpoint: v("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		Protocol:       v("OTEL_EXPORTER_OTLP_PROTOCOL"),
		ServiceName:    v("OTEL_SERVICE_NAME"),
		InstanceID:     node,
		Sampler:        v("OTEL_TRACES_SAMPLER"),
		SamplerArg:     v("OTEL_TRACES_SAMPLER_ARG"),
	}
	var err error
	if c.Disabled, err = strconv.ParseBool(v("OTEL_SDK_DISABLED")); err != nil {
		fail("OTEL_SDK_DISABLED", fmt.Errorf("want true or false"))
	}
	if c.Headers, err = tracing.ParseList(v("OTEL_EXPORTER_OTLP_HEADERS")); err != nil {
		fail("OTEL_EXPORTER_OTLP_HEADERS", err)
	}
	if c.Resource, err = tracing.ParseList(v("OTEL_RESOURCE_ATTRIBUTES")); err != nil {
		fail("OTEL_RESOURCE_ATTRIBUTES", err)
	}
	// Validate names the variable at fault itself.
	if err := c.Validate(); err != nil {
		fail("tracing", err)
	}
	return c
}

// startTracing returns the tracer provider the spans go to: the one hooks
// give (tests), else the exporter the OTEL_* variables configure, else nil
// (tracing off). stop flushes the spans still buffered; serve calls it
// last, after everything that makes spans has stopped.
func startTracing(ctx context.Context, cfg Config, hooks Hooks, log *slog.Logger) (tp trace.TracerProvider, stop func(), err error) {
	if hooks.TracerProvider != nil {
		return hooks.TracerProvider, func() {}, nil
	}
	sdk, err := tracing.Setup(ctx, cfg.Tracing)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	if sdk == nil {
		return nil, func() {}, nil
	}
	log.Info("tracing on: exporting spans over OTLP/HTTP")
	return sdk, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := sdk.Shutdown(sctx); err != nil {
			log.Warn("flush spans at shutdown", "err", err)
		}
	}, nil
}

// queueSystem names the queue's technology for the job spans
// (messaging.system), as openQueue chooses it.
func queueSystem(cfg Config) string {
	if cfg.RedisURL != "" {
		return "asynq"
	}
	return "localqueue"
}
