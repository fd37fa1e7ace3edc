package app

import (
	"bytes"
	"strings"
	"testing"
)

func TestTracingConfig(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"WAGATE_NODE_ID":              "node-7",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
		"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20tok",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=prod",
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     "0.25",
	}))
	if err != nil {
		t.Fatal(err)
	}
	tc := c.Tracing
	if !tc.Enabled() || tc.Endpoint != "http://127.0.0.1:4318" || tc.Headers["authorization"] != "Bearer tok" ||
		tc.Resource["deployment.environment.name"] != "prod" || tc.InstanceID != "node-7" || tc.SamplerArg != "0.25" ||
		tc.ServiceName != "wagate" || tc.Protocol != "http/protobuf" {
		t.Errorf("got %+v, want the variables' values", tc)
	}

	off, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if off.Tracing.Enabled() {
		t.Error("got tracing on with no OTEL_* variable, want it off by default")
	}

	for name, val := range map[string]string{
		"OTEL_SDK_DISABLED":           "maybe",
		"OTEL_TRACES_EXPORTER":        "jaeger",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
		"OTEL_EXPORTER_OTLP_HEADERS":  "no-equals-sign",
		"OTEL_TRACES_SAMPLER":         "sometimes",
		"OTEL_TRACES_SAMPLER_ARG":     "1.5",
	} {
		if _, err := loadConfig(envOf(map[string]string{name: val})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: got %v, want an error naming the variable", name, val, err)
		}
	}
}

func TestLogConfigMasksOTLPHeaders(t *testing.T) {
	var buf bytes.Buffer
	logConfig(newLogger(&buf, 0, "n1"), envOf(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr3t-collector-key"}))
	if strings.Contains(buf.String(), "s3cr3t-collector-key") {
		t.Errorf("the logged configuration shows the OTLP headers: %s", buf.String())
	}
}
