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
	// Only an absent list means the default: an empty one is a key that
	// may do nothing, almost surely a mistake, and reading it as "all"
	// would hand out every scope to a caller who asked for none.
	switch {
	case cmd.Scopes == nil:
		cmd.Scopes = slices.Clone(ports.AllScopes)
	case len(cmd.Scopes) == 0:
		fields = append(fields, ports.FieldError{Field: "scopes", Message: "must name at least one scope; leave it out for all scopes"})
	default:
		cmd.Scopes = slices.Clone(cmd.Scopes) // the key must not share the caller's slice
		if msg := checkScopes(cmd.Scopes); msg != "" {
			fields = append(fields, ports.FieldError{Field: "scopes", Message: msg})
		}
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
