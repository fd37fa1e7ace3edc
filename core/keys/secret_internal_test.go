package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func TestNewKeyValueUsesWholeAlphabet(t *testing.T) {
	seen := map[rune]bool{}
	for range 500 {
		k, err := newKeyValue()
		if err != nil {
			t.Fatal(err)
		}
		if !wellFormed(k) {
			t.Fatalf("key %q: got malformed, want well formed", k)
		}
		for _, c := range k[len(keyPrefix):] {
			seen[c] = true
		}
	}
	// 20,000 uniform draws miss one of 62 characters with a probability
	// far below 1e-100.
	if len(seen) != len(alphabet) {
		t.Errorf("distinct characters: got %d, want %d", len(seen), len(alphabet))
	}
}

func TestWellFormed(t *testing.T) {
	good := "wag_" + strings.Repeat("aZ09", 10)
	tests := map[string]bool{
		good:                           true,
		good[:43]:                      false,
		good + "a":                     false,
		"WAG_" + good[4:]:              false,
		good[:43] + "_":                false,
		good[:43] + "é"[:1]:            false,
		strings.Repeat("x", len(good)): false,
	}
	for key, want := range tests {
		if got := wellFormed(key); got != want {
			t.Errorf("wellFormed(%q): got %v, want %v", key, got, want)
		}
	}
}

// A full buffer drops the touch at once instead of blocking a request, and
// the dropped key is queued again on its next use.
func TestQueueDropsWhenFull(t *testing.T) {
	tc := newToucher()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range touchBuffer {
		tc.queue(ports.APIKeyID(strings.Repeat("k", i+1)), now)
	}
	done := make(chan struct{})
	go func() {
		tc.queue("late", now)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("queue blocked on a full buffer")
	}
	<-tc.ch
	tc.queue("late", now)
	if got := len(tc.ch); got != touchBuffer {
		t.Errorf("queued after a slot freed: got %d, want %d", got, touchBuffer)
	}
}
