package templates

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Render fills the placeholders of t's body with vars and returns the
// text. Every missing variable is reported at once, sorted, each as the
// field "variables.<name>" with the message "missing", in one EInvalid.
// Values are inserted verbatim, never expanded again; variables the body
// does not use are ignored. A text over MaxBodyChars is EInvalid too.
func Render(t ports.Template, vars map[string]string) (string, error) {
	p, err := parse(t.Body)
	if err != nil {
		return "", fmt.Errorf("parse template %s: %w", t.ID, err)
	}
	var missing []string
	for _, name := range p.variables {
		if _, ok := vars[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		fields := make([]ports.FieldError, len(missing))
		for i, name := range missing {
			fields[i] = ports.FieldError{Field: "variables." + name, Message: "missing"}
		}
		return "", ports.InvalidFields(fields...)
	}
	var b strings.Builder
	for _, s := range p.segments {
		if s.name != "" {
			b.WriteString(vars[s.name])
		} else {
			b.WriteString(s.text)
		}
	}
	if utf8.RuneCountInString(b.String()) > MaxBodyChars {
		return "", ports.InvalidFields(ports.FieldError{Field: "variables",
			Message: fmt.Sprintf("the rendered text must be at most %d characters", MaxBodyChars)})
	}
	return b.String(), nil
}
