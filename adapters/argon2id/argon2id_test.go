package argon2id_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/wagate/wagate/adapters/argon2id"
)

// cheap keeps the tests fast; the format and the logic are the same.
var cheap = argon2id.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestDefaultFormat(t *testing.T) {
	h, err := argon2id.Default().Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Errorf("hash: got %q, want the PHC form with OWASP parameters", h)
	}
	ok, err := argon2id.Default().Verify(h, "correct horse")
	if err != nil || !ok {
		t.Errorf("verify: got %v, %v; want true", ok, err)
	}
}

func TestVerify(t *testing.T) {
	hasher := argon2id.New(cheap)
	hash, err := hasher.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, password string
		want           bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsf", false},
		{"empty", "", false},
		{"prefix", "correct", false},
		{"longer", "correct horse ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hasher.Verify(hash, tt.password)
			if err != nil || got != tt.want {
				t.Errorf("verify: got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSaltsDiffer(t *testing.T) {
	hasher := argon2id.New(cheap)
	a, _ := hasher.Hash("same")
	b, _ := hasher.Hash("same")
	if a == b {
		t.Errorf("two hashes of one password are equal: %q", a)
	}
}

// A hash made with other parameters still verifies: they are read from the
// hash, not from the hasher.
func TestParametersComeFromTheHash(t *testing.T) {
	old, err := argon2id.New(argon2id.Params{Memory: 32, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16}).Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(old, "$m=32,t=3,p=2$") {
		t.Fatalf("hash: got %q, want m=32,t=3,p=2", old)
	}
	ok, err := argon2id.New(cheap).Verify(old, "pw")
	if err != nil || !ok {
		t.Errorf("verify with other parameters: got %v, %v; want true", ok, err)
	}
}

func TestMalformed(t *testing.T) {
	good, _ := argon2id.New(cheap).Hash("pw")
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"empty":             "",
		"bcrypt":            "$2a$10$abcdefghijklmnopqrstuu5Hf3uUqX5Qxw5mZy8Ns3d0g9n6Y8qTy",
		"argon2i":           with(1, "argon2i"),
		"old version":       with(2, "v=16"),
		"version garbage":   with(2, "v=19x"),
		"missing parameter": with(3, "m=64,t=1"),
		"zero time":         with(3, "m=64,t=0,p=1"),
		"huge memory":       with(3, "m=4194304,t=1,p=1"),
		"zero threads":      with(3, "m=64,t=1,p=0"),
		"salt not base64":   with(4, "!!!!"),
		"padded salt":       with(4, parts[4]+"=="),
		"short key":         with(5, "AAAA"),
		"extra field":       good + "$x",
		"missing field":     strings.Join(parts[:5], "$"),
	}
	for name, hash := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := argon2id.New(cheap).Verify(hash, "pw")
			if !errors.Is(err, argon2id.ErrMalformed) || ok {
				t.Errorf("verify %q: got %v, %v; want false and ErrMalformed", hash, ok, err)
			}
		})
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := argon2id.Default()
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := argon2id.Default()
	hash, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := h.Verify(hash, "correct horse battery staple"); err != nil || !ok {
			b.Fatal(fmt.Sprint(ok, err))
		}
	}
}

// TestConcurrentUse: derivations beyond the CPU count wait for a slot
// rather than fail, and every caller gets the right answer.
func TestConcurrentUse(t *testing.T) {
	h := argon2id.New(cheap)
	hash, err := h.Hash("pw-concurrent")
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	results := make(chan bool, n)
	for i := range n {
		go func() {
			pw := "pw-concurrent"
			if i%2 == 1 {
				pw = "wrong"
			}
			ok, err := h.Verify(hash, pw)
			results <- err == nil && ok == (i%2 == 0)
		}()
	}
	for range n {
		if !<-results {
			t.Fatalf("a concurrent Verify gave the wrong answer")
		}
	}
}
