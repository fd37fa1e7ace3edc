package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/ports"
)

// The WhatsApp send's attributes: what kind of message, never what it
// says or to whom.
const (
	attrMessageKind = attribute.Key("wagate.message.kind")
	attrMediaKind   = attribute.Key("wagate.media.kind")
	attrReply       = attribute.Key("wagate.message.reply")
)

// tracedWhatsApp makes a client span around each send; the other methods
// pass through.
type tracedWhatsApp struct {
	ports.WhatsApp
	tracer trace.Tracer
}

var _ ports.WhatsApp = (*tracedWhatsApp)(nil)

// WhatsApp decorates w with a span around Send; the result keeps w's
// optional capabilities. With a nil tp it returns w itself.
func WhatsApp(w ports.WhatsApp, tp trace.TracerProvider) ports.WhatsApp {
	if tp == nil {
		return w
	}
	return ports.KeepWhatsAppCapabilities(&tracedWhatsApp{WhatsApp: w, tracer: tp.Tracer(ScopeName)}, w)
}

// Send implements ports.WhatsApp.
func (w *tracedWhatsApp) Send(ctx context.Context, id ports.InstanceID, m ports.WAOutbound) (ports.WASent, error) {
	attrs := append(tenantAttrs(ctx), AttrInstance.String(string(id)), attrMessageKind.String(messageKind(m)), attrReply.Bool(m.ReplyTo != ""))
	if m.Media != nil {
		attrs = append(attrs, attrMediaKind.String(string(m.Media.Kind)))
	}
	ctx, span := w.tracer.Start(ctx, "whatsapp.send", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	defer span.End()
	sent, err := w.WhatsApp.Send(ctx, id, m)
	if err != nil {
		fail(span, err)
	}
	return sent, err
}

func messageKind(m ports.WAOutbound) string {
	switch {
	case m.Media != nil:
		return "media"
	case m.Location != nil:
		return "location"
	default:
		return "text"
	}
}
