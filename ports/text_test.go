package ports_test

import (
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want bool // passes
	}{
		{"hello\tworld\n", 20, true},
		{strings.Repeat("😀", 10), 10, true},
		{strings.Repeat("😀", 11), 10, false},
		{"a\x00b", 10, false},
		{"a\xffb", 10, false},
		{"\u202Eevil", 10, true}, // free text may carry bidi characters
	} {
		if got := ports.CheckText("f", tc.in, tc.max) == nil; got != tc.want {
			t.Errorf("CheckText(%q, %d): got pass %v, want %v", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"sales EU", true},
		{"Zürich 😀", true},
		{"tab\there", false},
		{"line\nbreak", false},
		{"nul\x00", false},
		{"\xc3", false},
		{"abc\u202Egpj.exe", false},
		{"iso\u2066late", false},
		{"zero\u200Bwidth", false},
		{"bom\uFEFF", false},
		{"del\u007f", false},
	} {
		fe := ports.CheckName("name", tc.in, 100)
		if got := fe == nil; got != tc.want {
			t.Errorf("CheckName(%q): got pass %v, want %v", tc.in, got, tc.want)
		}
		if fe != nil && fe.Field != "name" {
			t.Errorf("CheckName(%q): got field %q, want name", tc.in, fe.Field)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"a\x00b":        "ab",
		"bad\xff\xfeok": "bad\uFFFDok",
		"\x00\xc3":      "\uFFFD",
	} {
		got := ports.CleanText(in)
		if got != want {
			t.Errorf("CleanText(%q): got %q, want %q", in, got, want)
		}
		if !ports.ValidText(got) {
			t.Errorf("CleanText(%q) = %q is not valid text", in, got)
		}
	}
}
