package safehttp

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/wagate/wagate/ports"
)

func TestReadBody(t *testing.T) {
	tests := []struct {
		in      string
		max     int64
		want    string
		tooLong bool
	}{
		{"hello", 10, "hello", false},
		{"hello", 5, "hello", false},
		{"hello", 3, "hel", true},
		{"", 0, "", false},
		{"a", 0, "", true},
	}
	for _, tt := range tests {
		got, err := ReadBody(strings.NewReader(tt.in), tt.max)
		if string(got) != tt.want {
			t.Errorf("%q max %d: got %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if tooLong := ports.IsCode(err, ports.ETooLarge); tooLong != tt.tooLong || (err != nil && !tooLong) {
			t.Errorf("%q max %d: got error %v, want too large %v", tt.in, tt.max, err, tt.tooLong)
		}
		if e := ports.AsError(err); tt.tooLong && e.Reason != "payload_too_large" {
			t.Errorf("got reason %q, want payload_too_large", e.Reason)
		}
	}
}

// endless counts the bytes handed out, to prove the cap bounds the read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadBodyStopsAtCap(t *testing.T) {
	src := &endless{}
	got, err := ReadBody(src, 1024)
	if !ports.IsCode(err, ports.ETooLarge) || len(got) != 1024 {
		t.Fatalf("got %d bytes, %v; want 1024 bytes and ETooLarge", len(got), err)
	}
	if src.n > 1025 {
		t.Errorf("got %d bytes read, want at most 1025", src.n)
	}
}

func TestReadBodyPassesReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := ReadBody(io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 10)
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want %v", err, boom)
	}
}
