package sessions

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// The input limits of an instance.
const (
	maxNameLen        = 100
	maxMetadataKeys   = 50
	maxMetadataKeyLen = 64
	maxMetadataBytes  = 4 << 10
	maxProxyURLLen    = 2048
)

var proxySchemes = map[string]bool{"http": true, "https": true, "socks5": true, "socks5h": true}

// checkName checks an already trimmed instance name.
func checkName(name string) *ports.FieldError {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return &ports.FieldError{Field: "name", Message: "is required"}
	case n > maxNameLen:
		return &ports.FieldError{Field: "name", Message: "must be at most 100 characters"}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return &ports.FieldError{Field: "name", Message: "must not contain control characters"}
	}
	return nil
}

// checkMetadata bounds the free-form metadata so that it cannot be used as
// storage.
func checkMetadata(m map[string]any) *ports.FieldError {
	if len(m) > maxMetadataKeys {
		return &ports.FieldError{Field: "metadata", Message: "must have at most 50 keys"}
	}
	for k := range m {
		if n := utf8.RuneCountInString(k); n == 0 || n > maxMetadataKeyLen {
			return &ports.FieldError{Field: "metadata", Message: "keys must be 1 to 64 characters"}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return &ports.FieldError{Field: "metadata", Message: "must be JSON"}
	}
	if len(b) > maxMetadataBytes {
		return &ports.FieldError{Field: "metadata", Message: "must encode to at most 4 KiB of JSON"}
	}
	return nil
}

// checkProxyURL accepts an empty value (no proxy) or an absolute URL of a
// proxy scheme that the WhatsApp client can dial.
func checkProxyURL(raw string) *ports.FieldError {
	if raw == "" {
		return nil
	}
	bad := &ports.FieldError{Field: "proxyUrl", Message: "must be an http, https, socks5 or socks5h URL with a host"}
	if len(raw) > maxProxyURLLen {
		return &ports.FieldError{Field: "proxyUrl", Message: "must be at most 2048 characters"}
	}
	u, err := url.Parse(raw)
	if err != nil || !proxySchemes[strings.ToLower(u.Scheme)] || u.Hostname() == "" || u.Opaque != "" {
		return bad
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

// jsonEqual compares two metadata maps as the client sees them: by their
// JSON. Both were validated, so they encode.
func jsonEqual(a, b map[string]any) bool {
	ja, errA := json.Marshal(metadataOrEmpty(a))
	jb, errB := json.Marshal(metadataOrEmpty(b))
	return errA == nil && errB == nil && string(ja) == string(jb)
}
