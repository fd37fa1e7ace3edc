package tenancy

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// The input limits of SPEC §3.
const (
	maxEmailLen    = 254
	minPasswordLen = 8
	maxPasswordLen = 128
	maxNameLen     = 200
	// maxLoginPasswordLen bounds a password given to be checked (login,
	// password change): looser than maxPasswordLen, so a future rule change
	// cannot lock anyone out, but bounded before the hash is computed.
	maxLoginPasswordLen = 1024
	// maxTokenLen bounds a refresh token given back; ours are far shorter.
	maxTokenLen = 512
)

// normalizeEmail is the form emails are stored and compared in.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkEmail checks an already normalized email. It must be a bare address
// (no display name, no angle brackets) whose domain has a dot: net/mail
// alone accepts "a@localhost", which no customer mailbox uses.
func checkEmail(email string) *ports.FieldError {
	if email == "" {
		return &ports.FieldError{Field: "email", Message: "is required"}
	}
	if fe := ports.CheckText("email", email, maxEmailLen); fe != nil {
		return fe
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
	if !ports.ValidText(password) {
		return &ports.FieldError{Field: field, Message: "must be valid UTF-8 without NUL characters"}
	}
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
	if name == "" {
		return &ports.FieldError{Field: "name", Message: "is required"}
	}
	return ports.CheckName("name", name, maxNameLen)
}
