package entstore

import (
	"errors"
	"fmt"
	"strings"

	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ports"
)

// dbError translates a driver or ent error at the boundary: a missing row is
// ENotFound ("<what> not found"), a unique violation EConflict, a value ent
// rejects EInvalid, and anything
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
	}
	return fmt.Errorf("%s: %w", op, err)
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
