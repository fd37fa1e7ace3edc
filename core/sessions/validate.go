package sessions

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

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

// proxySchemes are those the WhatsApp adapter can dial through (whatsmeow
// has no socks5h: a URL saved with it would only fail at connect).
var proxySchemes = map[string]bool{"http": true, "https": true, "socks5": true}

// checkName checks an already trimmed instance name.
func checkName(name string) *ports.FieldError {
	if name == "" {
		return &ports.FieldError{Field: "name", Message: "is required"}
	}
	return ports.CheckName("name", name, maxNameLen)
}

// checkMetadata bounds the free-form metadata so that it cannot be used as
// storage.
func checkMetadata(m map[string]any) *ports.FieldError {
	if len(m) > maxMetadataKeys {
		return &ports.FieldError{Field: "metadata", Message: "must have at most 50 keys"}
	}
	for k, v := range m {
		if k == "" || ports.CheckName("metadata", k, maxMetadataKeyLen) != nil {
			return &ports.FieldError{Field: "metadata", Message: "keys must be names of 1 to 64 characters"}
		}
		if !validJSONText(v) {
			return &ports.FieldError{Field: "metadata." + k, Message: "must be valid UTF-8 without NUL characters"}
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

// validJSONText reports whether every string in a decoded JSON value, keys
// included, follows the text rule.
func validJSONText(v any) bool {
	switch v := v.(type) {
	case string:
		return ports.ValidText(v)
	case []any:
		for _, e := range v {
			if !validJSONText(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range v {
			if !ports.ValidText(k) || !validJSONText(e) {
				return false
			}
		}
	}
	return true
}

// checkProxyURL accepts an empty value (no proxy) or an absolute URL of a
// proxy scheme that the WhatsApp client can dial.
func checkProxyURL(raw string) *ports.FieldError {
	if raw == "" {
		return nil
	}
	bad := &ports.FieldError{Field: "proxyUrl", Message: "must be an http, https or socks5 URL with a host"}
	if fe := ports.CheckText("proxyUrl", raw, maxProxyURLLen); fe != nil {
		return fe
	}
	u, err := url.Parse(raw)
	if err != nil || !proxySchemes[strings.ToLower(u.Scheme)] || u.Hostname() == "" || u.Opaque != "" {
		return bad
	}
	return nil
}

// jsonEqual compares two metadata maps as the client sees them: by their
// JSON. Both were validated, so they encode.
func jsonEqual(a, b map[string]any) bool {
	ja, errA := json.Marshal(metadataOrEmpty(a))
	jb, errB := json.Marshal(metadataOrEmpty(b))
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// The phone number rules (SPEC §6, §7).
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
	maxPhoneChecks = 50
	phoneRule      = "must be a phone number in international form: 7 to 15 digits with the country code; +, spaces and dashes are ignored"
)

// phoneDigits returns the digits of a phone number written with an
// optional +, spaces and dashes; false if anything else is in it or the
// digit count is out of range.
func phoneDigits(phone string) (string, bool) {
	digits := make([]byte, 0, len(phone))
	for i := 0; i < len(phone); i++ {
		switch c := phone[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' || c == ' ' || c == '-':
		default:
			return "", false
		}
	}
	if len(digits) < minPhoneDigits || len(digits) > maxPhoneDigits {
		return "", false
	}
	return string(digits), true
}

// checkPhoneList validates a contact check's numbers and returns their
// digits, in order. Each bad number is a field error of its own.
func checkPhoneList(phones []string) ([]string, error) {
	if len(phones) == 0 || len(phones) > maxPhoneChecks {
		return nil, ports.InvalidFields(ports.FieldError{Field: "phoneNumbers", Message: "must hold 1 to 50 phone numbers"})
	}
	digits := make([]string, len(phones))
	var bad []ports.FieldError
	for i, p := range phones {
		d, ok := phoneDigits(p)
		if !ok {
			bad = append(bad, ports.FieldError{Field: fmt.Sprintf("phoneNumbers[%d]", i), Message: phoneRule})
		}
		digits[i] = d
	}
	if len(bad) > 0 {
		return nil, ports.InvalidFields(bad...)
	}
	return digits, nil
}
