package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// The attributes that say whose work a span is. They are ids, never
// content.
const (
	AttrSubscription = attribute.Key("wagate.subscription.id")
	AttrInstance     = attribute.Key("wagate.instance.id")
)

// maxIDLen bounds an id taken into a span or the baggage: ids are UUIDs,
// and anything longer came from a caller, not from wagate.
const maxIDLen = 64

// WithTenant tags the span in ctx with the subscription and instance
// (either may be empty) and returns ctx carrying them as baggage, so that
// the jobs enqueued under ctx tag their own spans with them too. Only
// wagate sets these members: the HTTP server extracts no baggage from
// requests, so a caller cannot claim another tenant's id.
func WithTenant(ctx context.Context, sub, instance string) context.Context {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return ctx
	}
	b := baggage.FromContext(ctx)
	for _, m := range []struct {
		key attribute.Key
		val string
	}{{AttrSubscription, sub}, {AttrInstance, instance}} {
		if m.val == "" || len(m.val) > maxIDLen {
			continue
		}
		span.SetAttributes(m.key.String(m.val))
		if mem, err := baggage.NewMemberRaw(string(m.key), m.val); err == nil {
			if nb, err := b.SetMember(mem); err == nil {
				b = nb
			}
		}
	}
	return baggage.ContextWithBaggage(ctx, b)
}

// tenantAttrs returns the tenant attributes the baggage in ctx carries.
func tenantAttrs(ctx context.Context) []attribute.KeyValue {
	b := baggage.FromContext(ctx)
	var out []attribute.KeyValue
	for _, k := range []attribute.Key{AttrSubscription, AttrInstance} {
		if v := b.Member(string(k)).Value(); v != "" && len(v) <= maxIDLen {
			out = append(out, k.String(v))
		}
	}
	return out
}
