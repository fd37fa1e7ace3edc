package keys

import (
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

const maxNameLen = 100

// validate normalizes cmd (trimmed name, default scopes) and checks every
// field at once.
func validate(cmd *CreateCmd, now time.Time) error {
	var fields []ports.FieldError
	cmd.Name = strings.TrimSpace(cmd.Name)
	if cmd.Name == "" {
		fields = append(fields, ports.FieldError{Field: "name", Message: "is required"})
	} else if fe := ports.CheckName("name", cmd.Name, maxNameLen); fe != nil {
		fields = append(fields, *fe)
	}
	cmd.Scopes = slices.Clone(cmd.Scopes) // the key must not share the caller's slice
	if len(cmd.Scopes) == 0 {
		cmd.Scopes = slices.Clone(ports.AllScopes)
	} else if msg := checkScopes(cmd.Scopes); msg != "" {
		fields = append(fields, ports.FieldError{Field: "scopes", Message: msg})
	}
	if cmd.ExpiresAt != nil && !cmd.ExpiresAt.After(now) {
		fields = append(fields, ports.FieldError{Field: "expiresAt", Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return ports.InvalidFields(fields...)
	}
	return nil
}

func checkScopes(scopes []ports.Scope) string {
	seen := make(map[ports.Scope]bool, len(scopes))
	for _, s := range scopes {
		if !slices.Contains(ports.AllScopes, s) {
			return "unknown scope " + string(s)
		}
		if seen[s] {
			return "duplicate scope " + string(s)
		}
		seen[s] = true
	}
	return ""
}
