package webhooks_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

func TestNewSecret(t *testing.T) {
	a, err := webhooks.NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	b, err := webhooks.NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	if a == b {
		t.Errorf("two secrets are both %q, want different ones", a)
	}
	for _, s := range []string{a, b} {
		if !strings.HasPrefix(s, "whsec_") {
			t.Errorf("got %q, want the whsec_ prefix", s)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			t.Errorf("base64 of %q: %v", s, err)
		}
		if len(raw) != 32 {
			t.Errorf("got %d bytes, want 32", len(raw))
		}
		key, err := webhooks.DecodeSecret(s)
		if err != nil {
			t.Fatalf("DecodeSecret(NewSecret()): %v", err)
		}
		if !bytes.Equal(key, raw) {
			t.Errorf("DecodeSecret got %x, want %x", key, raw)
		}
	}
}

func TestDecodeSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, n)) }
	tests := []struct {
		name    string
		in      string
		wantLen int // 0: EInvalid wanted
	}{
		{"32 bytes", "whsec_" + b64(32), 32},
		{"spec example, 24 bytes", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
		{"64 bytes", "whsec_" + b64(64), 64},
		{"empty", "", 0},
		{"prefix only", "whsec_", 0},
		{"no prefix", b64(32), 0},
		{"wrong prefix case", "WHSEC_" + b64(32), 0},
		{"23 bytes", "whsec_" + b64(23), 0},
		{"65 bytes", "whsec_" + b64(65), 0},
		{"padding missing", "whsec_" + strings.TrimRight(b64(32), "="), 0},
		{"url alphabet", "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))), 0},
		{"not base64", "whsec_" + strings.Repeat("!", 44), 0},
		{"trailing space", "whsec_" + b64(32) + " ", 0},
		{"non-zero padding bits", "whsec_Q6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=", 0}, // b64(32) ends in "s="
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := webhooks.DecodeSecret(tt.in)
			if tt.wantLen == 0 {
				if !ports.IsCode(err, ports.EInvalid) {
					t.Fatalf("got key %x, err %v; want EInvalid", key, err)
				}
				if tt.in != "" && strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q repeats the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want a key", err)
			}
			if len(key) != tt.wantLen {
				t.Errorf("got %d bytes, want %d", len(key), tt.wantLen)
			}
		})
	}
}
