package templates

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Limits of a template (characters are Unicode code points).
const (
	MaxBodyChars    = 4096 // of a body, and of a rendered text
	MaxNameChars    = 100  // of a template's name
	MaxVariables    = 50   // distinct placeholder names in one body
	MaxVariableName = 64   // characters of a placeholder name
)

// segment is a piece of a parsed body: literal text, or a placeholder
// (name set).
type segment struct {
	text string
	name string
}

// parsed is a body split into segments, with its distinct placeholder
// names in the order they first appear.
type parsed struct {
	segments  []segment
	variables []string
}

// Variables returns the distinct placeholder names of body in the order
// they first appear, or EInvalid on the field body when it breaks the
// placeholder syntax or the limits.
func Variables(body string) ([]string, error) {
	p, err := parse(body)
	if err != nil {
		return nil, err
	}
	return p.variables, nil
}

// parse splits body into segments and checks every rule of a body.
func parse(body string) (parsed, error) {
	if n := utf8.RuneCountInString(body); n == 0 || n > MaxBodyChars {
		return parsed{}, bodyError(fmt.Sprintf("must be 1 to %d characters", MaxBodyChars))
	}
	if fe := ports.CheckText("body", body, MaxBodyChars); fe != nil {
		return parsed{}, bodyError(fe.Message)
	}
	var p parsed
	var lit strings.Builder
	seen := map[string]bool{}
	for rest := body; rest != ""; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		if i > 0 && rest[i-1] == '\\' {
			// \{{ is a literal {{: keep the text before the backslash.
			lit.WriteString(rest[:i-1])
			lit.WriteString("{{")
			rest = rest[i+2:]
			continue
		}
		lit.WriteString(rest[:i])
		name, after, err := placeholder(rest[i+2:], len(body)-len(rest)+i)
		if err != nil {
			return parsed{}, err
		}
		if lit.Len() > 0 {
			p.segments = append(p.segments, segment{text: lit.String()})
			lit.Reset()
		}
		p.segments = append(p.segments, segment{name: name})
		if !seen[name] {
			seen[name] = true
			p.variables = append(p.variables, name)
		}
		rest = after
	}
	if lit.Len() > 0 {
		p.segments = append(p.segments, segment{text: lit.String()})
	}
	if len(p.variables) > MaxVariables {
		return parsed{}, bodyError(fmt.Sprintf("has %d distinct variables; at most %d are allowed", len(p.variables), MaxVariables))
	}
	return p, nil
}

// placeholder reads the name of a placeholder from s, the text right after
// its "{{" (which starts at byte offset at of the body), and returns the
// text after its "}}".
func placeholder(s string, at int) (name, after string, err error) {
	end := strings.Index(s, "}}")
	if end < 0 {
		return "", "", bodyError(fmt.Sprintf("has a {{ without a closing }} at byte %d (write \\{{ for a literal {{)", at))
	}
	name = strings.Trim(s[:end], " \t")
	if !validName(name) {
		return "", "", bodyError(fmt.Sprintf("has a malformed placeholder at byte %d: a name is 1 to %d letters, digits, _, . or -", at, MaxVariableName))
	}
	return name, s[end+2:], nil
}

// validName reports whether s is a placeholder name. Letters are ASCII so
// that a name reads the same in any client.
func validName(s string) bool {
	if s == "" || len(s) > MaxVariableName {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
		default:
			return false
		}
	}
	return true
}

func bodyError(msg string) error {
	return ports.InvalidFields(ports.FieldError{Field: "body", Message: msg})
}
