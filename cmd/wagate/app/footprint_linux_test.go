package app

import (
	"testing"
)

func TestReadOnlyMappingOf(t *testing.T) {
	const exe = "/usr/local/bin/wagate"
	tests := []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"00400000-02125000 r-xp 00000000 08:01 1234 /usr/local/bin/wagate", 0x400000, 0x2125000, true},
		{"02125000-045c3000 r--p 01d25000 08:01 1234 /usr/local/bin/wagate", 0x2125000, 0x45c3000, true},
		{"045c3000-046fb000 rw-p 041c3000 08:01 1234 /usr/local/bin/wagate", 0, 0, false}, // written data
		{"7ffa4027c000-7ffa403d2000 r-xp 00026000 08:01 99 /usr/lib/libc.so.6", 0, 0, false},
		{"046fb000-06758000 rw-p 00000000 00:00 0", 0, 0, false},
		{"zz-02125000 r-xp 00000000 08:01 1234 /usr/local/bin/wagate", 0, 0, false},
		{"02125000-00400000 r-xp 00000000 08:01 1234 /usr/local/bin/wagate", 0, 0, false},
	}
	for _, tt := range tests {
		start, end, ok := readOnlyMappingOf(tt.line, exe)
		if start != tt.start || end != tt.end || ok != tt.ok {
			t.Errorf("%q: got %#x-%#x %v, want %#x-%#x %v", tt.line, start, end, ok, tt.start, tt.end, tt.ok)
		}
	}
}

// TestReleaseStartupPages runs the release on the test binary itself: it
// finds its code and read-only data, and the kernel takes the advice.
func TestReleaseStartupPages(t *testing.T) {
	n, err := releaseStartupPages()
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if n < 1<<20 {
		t.Errorf("got %d bytes advised, want the test binary's code and read-only data (over 1 MiB)", n)
	}
}
