package tracing

import (
	"context"
	"errors"
	"fmt"
	"net"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/ports"
)

// attrErrorType is the conventions' error.type.
const attrErrorType = attribute.Key("error.type")

// fail marks span failed with the kind of err only. The message is left
// out on purpose: errors may quote a recipient's JID or a webhook URL with
// a token in its query, which must not leave the process in a span.
func fail(span trace.Span, err error) {
	kind := errorType(err)
	span.SetAttributes(attrErrorType.String(kind))
	span.SetStatus(codes.Error, kind)
}

// errorType is a short, bounded name for err: its ports code, timeout or
// canceled, else the Go type of the innermost error.
func errorType(err error) string {
	if e := ports.AsError(err); e != nil {
		// Reasons are fixed names too (instance_not_connected, …).
		if e.Reason != "" {
			return e.Reason
		}
		return string(e.Code)
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return fmt.Sprintf("%T", err)
		}
		err = inner
	}
}
