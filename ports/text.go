package ports

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The one rule for the text wagate accepts, used by every core module's
// validation and by the HTTP adapter's decoder, so that SQLite and
// PostgreSQL see the same text (PostgreSQL refuses NUL in text columns,
// SQLite stores it):
//
//   - any text is valid UTF-8 without NUL (U+0000);
//   - a name (instance, template, key, user, webhook description, metadata
//     key) also has no control characters, no bidirectional overrides or
//     isolates (U+202A–U+202E, U+2066–U+2069) and no zero-width characters
//     (U+200B–U+200D, U+FEFF), which would let a name look like another;
//   - lengths are counted in characters (runes), never bytes.
//
// Text that arrives from WhatsApp is not refused but cleaned (CleanText):
// a message must never be lost for a byte the database cannot hold.

// ValidText reports whether s is valid UTF-8 without NUL.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// CheckText checks a free-text field: valid UTF-8 without NUL, at most max
// characters. Nil when it passes.
func CheckText(field, s string, max int) *FieldError {
	if !ValidText(s) {
		return &FieldError{Field: field, Message: "must be valid UTF-8 without NUL characters"}
	}
	if utf8.RuneCountInString(s) > max {
		return &FieldError{Field: field, Message: fmt.Sprintf("must be at most %d characters", max)}
	}
	return nil
}

// CheckName is CheckText for a name: it also refuses control, bidi and
// zero-width characters. An empty name passes; "is required" is the
// caller's rule.
func CheckName(field, s string, max int) *FieldError {
	if fe := CheckText(field, s, max); fe != nil {
		return fe
	}
	if strings.IndexFunc(s, unsafeInName) >= 0 {
		return &FieldError{Field: field, Message: "must not contain control, bidirectional-control or zero-width characters"}
	}
	return nil
}

// unsafeInName is true for the characters a name must not hold.
func unsafeInName(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r >= 0x200B && r <= 0x200D, r == 0xFEFF:
		return true
	}
	return false
}

// CleanText makes text from outside storable without losing it: invalid
// UTF-8 becomes U+FFFD and NUL is removed.
func CleanText(s string) string {
	if ValidText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// FieldErrors returns an EInvalid error for the failed checks, nil if none
// failed.
func FieldErrors(checks ...*FieldError) error {
	var fields []FieldError
	for _, fe := range checks {
		if fe != nil {
			fields = append(fields, *fe)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return InvalidFields(fields...)
}
