package messaging

import (
	"regexp"
	"testing"
	"time"
)

func TestNewWAMessageID(t *testing.T) {
	format := regexp.MustCompile(`^3EB0[0-9A-F]{18}$`)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := map[string]bool{}
	for _, own := range []string{"15550001:1@s.whatsapp.net", "15550001@s.whatsapp.net", ""} {
		for range 100 {
			id := newWAMessageID(now, own)
			if !format.MatchString(id) {
				t.Fatalf("got %q, want 3EB0 and 18 upper-case hex digits (WhatsApp Web's format)", id)
			}
			if seen[id] {
				t.Fatalf("got %q twice, want a new id each time", id)
			}
			seen[id] = true
		}
	}
}

func TestJIDUser(t *testing.T) {
	for jid, want := range map[string]string{
		"15550001:1@s.whatsapp.net":   "15550001",
		"15550001@s.whatsapp.net":     "15550001",
		"15550001.0:2@s.whatsapp.net": "15550001",
		"":                            "",
	} {
		if got := jidUser(jid); got != want {
			t.Errorf("jidUser(%q): got %q, want %q", jid, got, want)
		}
	}
}
