package httpgin

import "testing"

func TestRedactURL(t *testing.T) {
	tests := map[string]string{
		"":                                   "",
		"http://proxy.example.com:3128":      "http://proxy.example.com:3128",
		"http://bob@proxy.example.com:3128":  "http://bob@proxy.example.com:3128",
		"socks5://bob:hunter2@proxy:1080":    "socks5://bob:****@proxy:1080",
		"http://b%40b:p%3Ass@proxy/x?y=1":    "http://b%40b:****@proxy/x?y=1",
		"http://bob:hunter2@[::1]:1080":      "http://bob:****@[::1]:1080",
		"http://bob:hunter2@proxy:port:x%zz": "****",
	}
	for in, want := range tests {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q): got %q, want %q", in, got, want)
		}
	}
}
