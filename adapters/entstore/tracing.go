package entstore

import (
	"database/sql"
	"database/sql/driver"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// openConnector opens a pool on c, wrapped by otelsql when tp is set.
// system is the conventions' db.system.name. The spans keep the query
// text (ent writes placeholders, so no value is in it) and leave out the
// arguments, the row iterations, the prepares and the session resets,
// which would only bury the queries.
func openConnector(c driver.Connector, system string, tp trace.TracerProvider) *sql.DB {
	if tp == nil {
		return sql.OpenDB(c)
	}
	return otelsql.OpenDB(c, traceOptions(system, tp)...)
}

func traceOptions(system string, tp trace.TracerProvider) []otelsql.Option {
	return []otelsql.Option{
		otelsql.WithTracerProvider(tp),
		// wagate's metrics are Prometheus's; no OpenTelemetry meter.
		otelsql.WithMeterProvider(noop.NewMeterProvider()),
		otelsql.WithAttributes(attribute.String("db.system.name", system)),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitRows: true, OmitConnPrepare: true, OmitConnResetSession: true, DisableErrSkip: true,
		}),
	}
}
