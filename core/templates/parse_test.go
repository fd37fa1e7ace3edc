package templates_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/ports"
)

func TestVariables(t *testing.T) {
	manyVars := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("{{v" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + strings.Repeat("9", i/26) + "}}")
		}
		return b.String()
	}
	tests := []struct {
		name, body string
		want       []string
		bad        bool
	}{
		{name: "plain text", body: "hello", want: nil},
		{name: "one", body: "Hi {{name}}!", want: []string{"name"}},
		{name: "spaces inside braces", body: "Hi {{ name }} and {{\tcode\t}}", want: []string{"name", "code"}},
		{name: "distinct in first order", body: "{{b}} {{a}} {{b}}", want: []string{"b", "a"}},
		{name: "every allowed character", body: "{{user.first_name-2}}", want: []string{"user.first_name-2"}},
		{name: "escaped braces", body: `literal \{{name}} here`, want: nil},
		{name: "escape next to a placeholder", body: `\{{x}} {{y}}`, want: []string{"y"}},
		{name: "lone braces are text", body: "a { b } c }} d", want: nil},
		{name: "64-character name", body: "{{" + strings.Repeat("a", 64) + "}}", want: []string{strings.Repeat("a", 64)}},
		{name: "50 variables", body: manyVars(50), want: nil},
		{name: "empty placeholder", body: "Hi {{}}", bad: true},
		{name: "blank placeholder", body: "Hi {{  }}", bad: true},
		{name: "unclosed", body: "Hi {{name", bad: true},
		{name: "bad character", body: "Hi {{first name}}", bad: true},
		{name: "non-ASCII name", body: "Hi {{nömé}}", bad: true},
		{name: "triple braces", body: "{{{name}}}", bad: true},
		{name: "65-character name", body: "{{" + strings.Repeat("a", 65) + "}}", bad: true},
		{name: "51 variables", body: manyVars(51), bad: true},
		{name: "empty body", body: "", bad: true},
		{name: "4097 characters", body: strings.Repeat("é", 4097), bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := templates.Variables(tc.body)
			if tc.bad {
				if e := ports.AsError(err); e == nil || e.Code != ports.EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "body" {
					t.Fatalf("got %v, want EInvalid on field body", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if tc.name == "50 variables" {
				if len(got) != 50 {
					t.Errorf("got %d variables, want 50", len(got))
				}
				return
			}
			if !cmp.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVariablesAtLimitLength(t *testing.T) {
	if _, err := templates.Variables(strings.Repeat("é", 4096)); err != nil {
		t.Errorf("4096 characters: got %v, want nil", err)
	}
}
