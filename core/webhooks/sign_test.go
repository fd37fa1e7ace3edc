package webhooks_test

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/wagate/wagate/core/webhooks"
)

// The signatures are checked by the Standard Webhooks reference library, an
// implementation independent of ours, the way a receiver would check them.

// verify checks the headers of a delivery as a receiver holding secret does.
func verify(t *testing.T, secret string, body []byte, headers map[string]string) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return wh.Verify(body, h)
}

func newKey(t *testing.T) (string, []byte) {
	t.Helper()
	s, err := webhooks.NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	key, err := webhooks.DecodeSecret(s)
	if err != nil {
		t.Fatalf("DecodeSecret: %v", err)
	}
	return s, key
}

// TestSignSpecVector is the example of the Standard Webhooks specification
// and its libraries' tests.
func TestSignSpecVector(t *testing.T) {
	key, err := webhooks.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatalf("DecodeSecret: %v", err)
	}
	got := webhooks.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`), key)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSign(t *testing.T) {
	_, k1 := newKey(t)
	_, k2 := newKey(t)
	at := time.Unix(1700000000, 999_000_000) // fractions are dropped: the header carries seconds
	body := []byte(`{"id":"evt_1"}`)
	one := webhooks.Sign("evt_1", at, body, k1)
	two := webhooks.Sign("evt_1", at, body, k2)
	tests := []struct {
		name    string
		secrets [][]byte
		want    string
	}{
		{"no secret", nil, ""},
		{"one secret", [][]byte{k1}, one},
		{"two secrets, in order", [][]byte{k1, k2}, one + " " + two},
		{"two secrets, reversed", [][]byte{k2, k1}, two + " " + one},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhooks.Sign("evt_1", at, body, tt.secrets...); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if !strings.HasPrefix(one, "v1,") || strings.Contains(one, " ") {
		t.Errorf("got %q, want one v1,<base64> signature", one)
	}
	if again := webhooks.Sign("evt_1", at.Truncate(time.Second), body, k1); again != one {
		t.Errorf("got %q for the whole second, want %q", again, one)
	}
}

func TestHeaders(t *testing.T) {
	_, key := newKey(t)
	at := time.Unix(1700000000, 0)
	body := []byte(`{}`)
	got := webhooks.Headers("evt_42", at, body, key)
	want := map[string]string{
		"webhook-id":        "evt_42",
		"webhook-timestamp": "1700000000",
		"webhook-signature": webhooks.Sign("evt_42", at, body, key),
	}
	if len(got) != len(want) {
		t.Errorf("got %d headers %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestHeadersVerify(t *testing.T) {
	secret, key := newKey(t)
	_, other := newKey(t)
	now := time.Now() // the library checks the timestamp against its own clock
	body := []byte(`{"id":"evt_1","type":"message.received","data":{}}`)
	tests := []struct {
		name    string
		at      time.Time
		key     []byte
		edit    func(h map[string]string, body []byte) []byte // what reaches the receiver; nil: as signed
		wantErr error                                         // nil: verifies
	}{
		{name: "as signed", at: now, key: key},
		{name: "body changed", at: now, key: key, edit: func(_ map[string]string, b []byte) []byte {
			return bytes.Replace(b, []byte("received"), []byte("status"), 1)
		}, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "body extended", at: now, key: key, edit: func(_ map[string]string, b []byte) []byte {
			return append(b, '\n')
		}, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "timestamp moved a second", at: now, key: key, edit: func(h map[string]string, b []byte) []byte {
			h["webhook-timestamp"] = strconv.FormatInt(now.Unix()-1, 10)
			return b
		}, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "id changed", at: now, key: key, edit: func(h map[string]string, b []byte) []byte {
			h["webhook-id"] = "evt_2"
			return b
		}, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "signed with another secret", at: now, key: other, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "signed 10 minutes ago", at: now.Add(-10 * time.Minute), key: key, wantErr: standardwebhooks.ErrMessageTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := webhooks.Headers("evt_1", tt.at, body, tt.key)
			b := bytes.Clone(body)
			if tt.edit != nil {
				b = tt.edit(h, b)
			}
			err := verify(t, secret, b, h)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("got %v, want a verified delivery", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRotationSecretsAt(t *testing.T) {
	cur, prev := []byte("current-key-0123456789abcdef"), []byte("previous-key-0123456789abcde")
	rotated := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    webhooks.Rotation
		at   time.Time
		want [][]byte
	}{
		{"never rotated", webhooks.Rotation{Current: cur}, rotated, [][]byte{cur}},
		{"at the rotation", webhooks.Rotation{Current: cur, Previous: prev, RotatedAt: rotated}, rotated, [][]byte{cur, prev}},
		{"before the rotation (clock skew)", webhooks.Rotation{Current: cur, Previous: prev, RotatedAt: rotated}, rotated.Add(-time.Minute), [][]byte{cur, prev}},
		{"just before 24 h", webhooks.Rotation{Current: cur, Previous: prev, RotatedAt: rotated}, rotated.Add(24*time.Hour - time.Nanosecond), [][]byte{cur, prev}},
		{"at 24 h", webhooks.Rotation{Current: cur, Previous: prev, RotatedAt: rotated}, rotated.Add(24 * time.Hour), [][]byte{cur}},
		{"a week later", webhooks.Rotation{Current: cur, Previous: prev, RotatedAt: rotated}, rotated.Add(7 * 24 * time.Hour), [][]byte{cur}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.SecretsAt(tt.at)
			if !equalKeys(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRotationRotate(t *testing.T) {
	k1, k2, k3 := []byte("key-one-0123456789abcdefghij"), []byte("key-two-0123456789abcdefghij"), []byte("key-three-0123456789abcdefgh")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := webhooks.Rotation{Current: k1}.Rotate(k2, t0)
	if want := (webhooks.Rotation{Current: k2, Previous: k1, RotatedAt: t0}); !equalRotation(r, want) {
		t.Errorf("got %+v, want %+v", r, want)
	}
	// A second rotation within the overlap retires k1 at once.
	r = r.Rotate(k3, t0.Add(time.Hour))
	if got, want := r.SecretsAt(t0.Add(time.Hour)), [][]byte{k3, k2}; !equalKeys(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestRotationVerify: during the 24 h after a rotation receivers holding
// either secret verify a delivery; after them only the new secret does.
func TestRotationVerify(t *testing.T) {
	oldSecret, oldKey := newKey(t)
	newSecret, newKey := newKey(t)
	now := time.Now() // the library checks the timestamp against its own clock
	body := []byte(`{"id":"evt_9","type":"instance.status"}`)
	tests := []struct {
		name      string
		rotatedAt time.Time
		oldOK     bool
	}{
		{"just rotated", now, true},
		{"rotated 23 h 59 min ago", now.Add(-24*time.Hour + time.Minute), true},
		{"rotated 24 h ago", now.Add(-24 * time.Hour), false},
		{"rotated 25 h ago", now.Add(-25 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := webhooks.Rotation{Current: oldKey}.Rotate(newKey, tt.rotatedAt)
			h := webhooks.Headers("evt_9", now, body, r.SecretsAt(now)...)
			if err := verify(t, newSecret, body, h); err != nil {
				t.Errorf("new secret: got %v, want verified", err)
			}
			err := verify(t, oldSecret, body, h)
			if tt.oldOK && err != nil {
				t.Errorf("old secret: got %v, want verified", err)
			}
			if !tt.oldOK && !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
				t.Errorf("old secret: got %v, want %v", err, standardwebhooks.ErrNoMatchingSignature)
			}
			// Either way a changed body fails for both.
			tampered := append(bytes.Clone(body), ' ')
			for name, s := range map[string]string{"old": oldSecret, "new": newSecret} {
				if err := verify(t, s, tampered, h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
					t.Errorf("%s secret, tampered body: got %v, want %v", name, err, standardwebhooks.ErrNoMatchingSignature)
				}
			}
		})
	}
}

func equalKeys(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalRotation(a, b webhooks.Rotation) bool {
	return bytes.Equal(a.Current, b.Current) && bytes.Equal(a.Previous, b.Previous) && a.RotatedAt.Equal(b.RotatedAt)
}
