package templates_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/ports"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name, body string
		vars       map[string]string
		want       string
	}{
		{"plain", "hello", nil, "hello"},
		{"filled", "Hi {{ name }}, code {{code}}.", map[string]string{"name": "Ada", "code": "42"}, "Hi Ada, code 42."},
		{"repeated", "{{a}}-{{a}}", map[string]string{"a": "x"}, "x-x"},
		{"escape", `\{{a}} is {{a}}`, map[string]string{"a": "1"}, "{{a}} is 1"},
		{"backslash elsewhere kept", `C:\dir {{a}}`, map[string]string{"a": "x"}, `C:\dir x`},
		{"values are verbatim", "{{a}} {{b}}", map[string]string{"a": "{{b}}", "b": `\{{x}}`}, `{{b}} \{{x}}`},
		{"extra variables ignored", "{{a}}", map[string]string{"a": "1", "z": "2"}, "1"},
		{"empty value", "[{{a}}]", map[string]string{"a": ""}, "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := templates.Render(ports.Template{Body: tc.body}, tc.vars)
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRenderListsEveryMissingVariableSorted(t *testing.T) {
	_, err := templates.Render(ports.Template{Body: "{{zeta}} {{alpha}} {{mid}} {{alpha}}"}, map[string]string{"mid": "x"})
	e := ports.AsError(err)
	if e == nil || e.Code != ports.EInvalid {
		t.Fatalf("got %v, want EInvalid", err)
	}
	want := []ports.FieldError{{Field: "variables.alpha", Message: "missing"}, {Field: "variables.zeta", Message: "missing"}}
	if !cmp.Equal(e.Fields, want) {
		t.Errorf("fields: got %v, want %v", e.Fields, want)
	}
}

func TestRenderTooLong(t *testing.T) {
	tm := ports.Template{Body: "ab{{v}}"}
	if got, err := templates.Render(tm, map[string]string{"v": strings.Repeat("é", 4094)}); err != nil || len([]rune(got)) != 4096 {
		t.Errorf("4096 characters: got %d, %v; want 4096, nil", len([]rune(got)), err)
	}
	_, err := templates.Render(tm, map[string]string{"v": strings.Repeat("é", 4095)})
	if e := ports.AsError(err); e == nil || e.Code != ports.EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "variables" {
		t.Errorf("4097 characters: got %v, want EInvalid on field variables", err)
	}
}
