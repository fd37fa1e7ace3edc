// Package otel is wagate's OpenTelemetry tracing (SPEC §11): Setup builds
// the tracer provider the standard OTEL_* variables describe (off unless
// an exporter is configured), and decorators add spans around the ports
// without the core knowing: the queue (a producer span whose context
// travels in ports.Job.Trace) and its runner (a consumer span linked to
// the producer), the WhatsApp send, and the webhook POSTs (a client span
// that sends the customer no trace header). SQL and Redis spans come from
// otelsql and redisotel, limited by InTraceOnly to work done inside a
// trace. Spans carry subscription and instance ids, never message content,
// phone numbers or secrets.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The exporters Config.Exporter names.
const (
	ExporterOTLP = "otlp"
	ExporterNone = "none"
)

// ProtocolHTTP is the one OTLP protocol supported: protobuf over HTTP.
const ProtocolHTTP = "http/protobuf"

// DefaultServiceName is service.name unless configured.
const DefaultServiceName = "wagate"

// Config is the tracing configuration, read by the composition root from
// the standard OTEL_* variables; zero values are the defaults.
type Config struct {
	// Disabled (OTEL_SDK_DISABLED=true) turns tracing off whatever else
	// is set.
	Disabled bool
	// Exporter (OTEL_TRACES_EXPORTER): otlp or none. Empty means otlp
	// when an endpoint is set, else none: tracing is off by default.
	Exporter string
	// Endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) is the collector's base URL;
	// spans go to its /v1/traces. Default DefaultEndpoint.
	Endpoint string
	// TracesEndpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is the full URL
	// spans go to; it wins over Endpoint.
	TracesEndpoint string
	// Headers (OTEL_EXPORTER_OTLP_HEADERS) are sent with every export,
	// typically the collector's credentials.
	Headers map[string]string
	// Protocol (OTEL_EXPORTER_OTLP_PROTOCOL): only http/protobuf; empty
	// means that.
	Protocol string
	// Timeout bounds one export; zero: 10 s.
	Timeout time.Duration
	// ServiceName (OTEL_SERVICE_NAME); empty: wagate.
	ServiceName string
	// InstanceID is service.instance.id, the node's name.
	InstanceID string
	// Resource (OTEL_RESOURCE_ATTRIBUTES) are more resource attributes;
	// service.name and service.instance.id above win over them.
	Resource map[string]string
	// Sampler (OTEL_TRACES_SAMPLER): always_on, always_off, traceidratio,
	// parentbased_always_on (the default), parentbased_always_off,
	// parentbased_traceidratio; SamplerArg (OTEL_TRACES_SAMPLER_ARG) is
	// the ratio of the *traceidratio ones (default 1).
	Sampler    string
	SamplerArg string
}

// Enabled reports whether c asks for an exporter.
func (c Config) Enabled() bool {
	if c.Disabled {
		return false
	}
	switch c.Exporter {
	case ExporterOTLP:
		return true
	case "":
		return c.Endpoint != "" || c.TracesEndpoint != ""
	default:
		return false
	}
}

// Validate returns an error naming the first setting that is wrong.
func (c Config) Validate() error {
	switch c.Exporter {
	case "", ExporterOTLP, ExporterNone:
	default:
		return fmt.Errorf("OTEL_TRACES_EXPORTER: got %q, want otlp or none", c.Exporter)
	}
	if c.Protocol != "" && c.Protocol != ProtocolHTTP {
		return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: got %q, want %s (the only protocol wagate exports with)", c.Protocol, ProtocolHTTP)
	}
	for name, u := range map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.Endpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": c.TracesEndpoint} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: want an http:// or https:// URL", name)
		}
	}
	if _, err := c.sampler(); err != nil {
		return err
	}
	return nil
}

// DefaultEndpoint is the collector of OTEL_TRACES_EXPORTER=otlp with no
// endpoint set, as the specification says.
const DefaultEndpoint = "http://localhost:4318"

// tracesURL is where the spans are posted.
func (c Config) tracesURL() string {
	if c.TracesEndpoint != "" {
		return c.TracesEndpoint
	}
	base := c.Endpoint
	if base == "" {
		base = DefaultEndpoint
	}
	return strings.TrimSuffix(base, "/") + "/v1/traces"
}

func (c Config) sampler() (sdktrace.Sampler, error) {
	ratio := 1.0
	if c.SamplerArg != "" {
		r, err := strconv.ParseFloat(c.SamplerArg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: got %q, want a ratio from 0 to 1", c.SamplerArg)
		}
		ratio = r
	}
	switch c.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: got %q, want always_on, always_off, traceidratio or their parentbased_ forms", c.Sampler)
	}
}

func (c Config) resource() *resource.Resource {
	attrs := make([]attribute.KeyValue, 0, len(c.Resource)+2)
	for k, v := range c.Resource {
		if k != "service.name" && k != "service.instance.id" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	name := c.ServiceName
	if name == "" {
		name = c.Resource["service.name"]
	}
	if name == "" {
		name = DefaultServiceName
	}
	attrs = append(attrs, attribute.String("service.name", name))
	instance := c.InstanceID
	if instance == "" {
		instance = c.Resource["service.instance.id"]
	}
	if instance != "" {
		attrs = append(attrs, attribute.String("service.instance.id", instance))
	}
	return resource.NewSchemaless(attrs...)
}

// Setup returns the tracer provider cfg describes, or nil when tracing is
// off: the decorators and instrumentations then are not installed at all,
// so that tracing costs nothing unless asked for. The exporter batches
// spans; Shutdown flushes them.
func Setup(ctx context.Context, cfg Config) (*sdktrace.TracerProvider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, nil
	}
	sampler, _ := cfg.sampler() // checked by Validate
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// Every option is passed explicitly: the exporter's own reading of
	// the process environment only fills in what wagate does not set.
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.tracesURL()), otlptracehttp.WithTimeout(timeout)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(cfg.resource()),
	), nil
}

// ParseList parses the key=value,key=value lists of
// OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES; values are
// percent-decoded, as the specification says.
func ParseList(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			// The item may hold a secret: do not echo it.
			return nil, errors.New("want key=value pairs separated by commas")
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("the value of %q is not percent-encoded correctly", k)
		}
		out[k] = dv
	}
	return out, nil
}
