package ports

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode classifies an error for every boundary: the HTTP adapter maps it
// to a status, the queue adapters map it to retry behaviour.
type ErrorCode string

// The error codes. Keep the list short: a specific condition is told apart by
// Error.Reason, not by a new code.
const (
	EInvalid      ErrorCode = "invalid"      // the input breaks a rule
	ENotFound     ErrorCode = "not_found"    // missing, or another tenant's
	EConflict     ErrorCode = "conflict"     // clashes with current state
	EUnauthorized ErrorCode = "unauthorized" // no valid credentials
	EForbidden    ErrorCode = "forbidden"    // credentials valid, action not allowed
	ERateLimited  ErrorCode = "rate_limited" // too many requests; see RetryAfter
	ETooLarge     ErrorCode = "too_large"    // a body or file over its limit
	EUnsupported  ErrorCode = "unsupported"  // a media type that is not accepted
	EUnavailable  ErrorCode = "unavailable"  // a dependency is down; try again
	EInternal     ErrorCode = "internal"     // a bug or an unexpected failure
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string
	Message string
}

// Error is the one error type that crosses layers. Message is safe to show to
// the client; Reason is the specific machine-readable code of the API (for
// example "email_taken"), empty when the generic one for Code fits.
type Error struct {
	Code       ErrorCode
	Reason     string
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration // for ERateLimited
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Reason, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ReasonError returns an *Error with a specific API reason code.
func ReasonError(code ErrorCode, reason, message string) *Error {
	return &Error{Code: code, Reason: reason, Message: message}
}

// InvalidFields returns an EInvalid error listing the failed fields.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Code: EInvalid, Message: "the request has invalid fields", Fields: fields}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code ErrorCode) bool { return ErrorCodeOf(err) == code }

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
