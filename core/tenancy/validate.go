package tenancy

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// The input limits of SPEC §3.
const (
	maxEmailLen    = 254
	minPasswordLen = 8
	maxPasswordLen = 128
	maxNameLen     = 200
)

// normalizeEmail is the form emails are stored and compared in.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkEmail checks an already normalized email. It must be a bare address
// (no display name, no angle brackets) whose domain has a dot: net/mail
// alone accepts "a@localhost", which no customer mailbox uses.
func checkEmail(email string) *ports.FieldError {
	switch {
	case email == "":
		return &ports.FieldError{Field: "email", Message: "is required"}
	case len(email) > maxEmailLen:
		return &ports.FieldError{Field: "email", Message: "must be at most 254 characters"}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return &ports.FieldError{Field: "email", Message: "must be a valid email address"}
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return &ports.FieldError{Field: "email", Message: "must be a valid email address"}
	}
	return nil
}

// checkPassword counts characters, not bytes, so that non-ASCII passwords
// get the length a person expects.
func checkPassword(field, password string) *ports.FieldError {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return &ports.FieldError{Field: field, Message: "must be at least 8 characters"}
	case n > maxPasswordLen:
		return &ports.FieldError{Field: field, Message: "must be at most 128 characters"}
	}
	return nil
}

// checkName checks an already trimmed display name.
func checkName(name string) *ports.FieldError {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return &ports.FieldError{Field: "name", Message: "is required"}
	case n > maxNameLen:
		return &ports.FieldError{Field: "name", Message: "must be at most 200 characters"}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return &ports.FieldError{Field: "name", Message: "must not contain control characters"}
	}
	return nil
}

// fieldErrors returns an EInvalid error for the failed checks, nil if none
// failed.
func fieldErrors(checks ...*ports.FieldError) error {
	var fields []ports.FieldError
	for _, fe := range checks {
		if fe != nil {
			fields = append(fields, *fe)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return ports.InvalidFields(fields...)
}
