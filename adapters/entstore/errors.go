package entstore

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"entgo.io/ent/dialect/sql/sqlgraph"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ports"
)

// dbError translates a driver or ent error at the boundary: a missing row is
// ENotFound ("<what> not found"), a unique violation EConflict, a value ent
// rejects EInvalid, a database that cannot serve now (connections
// exhausted or lost, shutting down, locked) EUnavailable, and anything
// else is wrapped with op so that it surfaces as EInternal. A *ports.Error
// (from an update closure) passes through untouched.
func dbError(op, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case ports.AsError(err) != nil:
		return err
	case ent.IsNotFound(err):
		return ports.Errorf(ports.ENotFound, "%s not found", what)
	case sqlgraph.IsUniqueConstraintError(err):
		return ports.Errorf(ports.EConflict, "%s already exists", what)
	case ent.IsValidationError(err):
		// Core validates first; this catches what slips through (an
		// over-long value) before the database would reject it.
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return ports.InvalidFields(ports.FieldError{Field: ve.Name, Message: "invalid value"})
	case unavailable(err):
		return fmt.Errorf("%s: %w: %w", op, ports.Errorf(ports.EUnavailable, "the database is busy; try again shortly"), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailable reports whether err says the database cannot serve now
// rather than that the request was wrong: a client may retry (503), and
// a job is retried with backoff. PostgreSQL's classes 08 (connection
// exception) and 53 (insufficient resources: "too many clients"), and
// 57P (shutdown, cannot connect now); SQLite's BUSY and LOCKED, and no
// turn at the write gate (errLocked); a connection the driver or the
// network lost.
func unavailable(err error) bool {
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		c := state.SQLState()
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "53") || strings.HasPrefix(c, "57P")
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		code := lite.Code() & 0xff // the primary code, without the extended bits
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.As(err, &ne) ||
		errors.Is(err, errLocked)
}

// uniqueOn reports whether err is a unique violation on an index or column
// whose name contains column. PostgreSQL names the index ("user_email"),
// SQLite the columns ("users.email"); both contain the column name.
func uniqueOn(err error, column string) bool {
	return sqlgraph.IsUniqueConstraintError(err) && strings.Contains(err.Error(), column)
}

func errEmailTaken() error {
	return ports.ReasonError(ports.EConflict, "email_taken", "an account with this email already exists")
}

func errNameTaken() error {
	return ports.ReasonError(ports.EConflict, "name_taken", "an instance with this name already exists")
}
