package httpgin

import "testing"

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"to":"+1","text":"hi"}`, `{ "text" : "hi", "to":"+1" }`, true},
		{`{"to":"+1","n":{"b":1,"a":2}}`, "{\"n\":{\"a\":2,\"b\":1},\n\"to\":\"+1\"}\n", true},
		{`{"latitude":52.5}`, `{"latitude":52.50}`, false}, // numbers as written
		{`{"to":"+1","text":"hi"}`, `{"to":"+1","text":"hi "}`, false},
		{`{"to":"+1"}`, `{"to":"+1"} {}`, false}, // not one value: raw bytes
		{`not json`, `not json`, true},
	}
	for _, tc := range tests {
		got := string(canonicalJSON([]byte(tc.a))) == string(canonicalJSON([]byte(tc.b)))
		if got != tc.same {
			t.Errorf("canonicalJSON(%q) == canonicalJSON(%q): got %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// The answers kept for replay: the request's own outcome; not one a retry
// may change.
func TestKeptStatus(t *testing.T) {
	for status, want := range map[int]bool{202: true, 422: true, 404: true, 500: false, 409: false, 429: false} {
		if got := keptStatus(status); got != want {
			t.Errorf("keptStatus(%d): got %v, want %v", status, got, want)
		}
	}
}
