package entstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/lib/pq"

	"github.com/wagate/wagate/ports"
)

// A database that cannot serve now is EUnavailable (503, retried), never
// EInternal: under load PostgreSQL refuses connections with "too many
// clients", which answered 500.
func TestDBErrorUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want ports.ErrorCode
	}{
		{"too many clients", &pq.Error{Code: "53300"}, ports.EUnavailable},
		{"connection failure", &pq.Error{Code: "08006"}, ports.EUnavailable},
		{"cannot connect now", &pq.Error{Code: "57P03"}, ports.EUnavailable},
		{"bad connection", fmt.Errorf("query: %w", driver.ErrBadConn), ports.EUnavailable},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ports.EUnavailable},
		{"syntax error", &pq.Error{Code: "42601"}, ports.EInternal},
		{"plain", errors.New("boom"), ports.EInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ports.EInternal
			if pe := ports.AsError(dbError("op", "thing", tc.err)); pe != nil {
				got = pe.Code
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
