package safehttp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestCheckProxyURL: a proxy may use any port, scheme and credentials, but
// must not point at the server's own network (issue 10: a proxy on
// 127.0.0.1:6379 made the server talk to Redis).
func TestCheckProxyURL(t *testing.T) {
	o := Options{Resolver: staticResolver(testHosts)}
	tests := []struct {
		url  string
		want string // "" accepted, else a part of the field message
	}{
		{"http://127.0.0.1:6379", "(127.0.0.1)"},
		{"https://169.254.169.254:80", "(169.254.169.254)"},
		{"http://[::1]:22", "(::1)"},
		{"socks5://10.0.0.1:1080", "(10.0.0.1)"},
		{"socks5://0x7f000001:1080", "(127.0.0.1)"},
		{"http://localhost:3128", "internal host name"},
		{"http://internal.example:3128", "must not resolve to a private"},
		{"http://:3128", "must include a host"},
		{"http://public.example:3128", ""},
		{"socks5://user:pw@public.example:1080", ""},
		{"https://93.184.216.34", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckProxyURL(context.Background(), tt.url, o)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				return
			}
			if e := ports.AsError(err); e == nil || e.Code != ports.EInvalid || !strings.Contains(e.Message, tt.want) {
				t.Errorf("got %v, want EInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckProxyURLAllowPrivate(t *testing.T) {
	if err := CheckProxyURL(context.Background(), "http://127.0.0.1:6379", Options{AllowPrivate: true}); err != nil {
		t.Errorf("got %v, want a loopback proxy accepted with AllowPrivate", err)
	}
}

// TestProxyDialerRefusesResolvedLoopback: a proxy name that resolved to a
// public address when saved and resolves to loopback now is refused before
// the TCP handshake, which the listener would see.
func TestProxyDialerRefusesResolvedLoopback(t *testing.T) {
	rcv := newReceiver(t, ok)
	dial := NewProxyDialer(Options{Resolver: staticResolver(map[string][]string{"proxy.example": {"127.0.0.1"}})})
	conn, err := dial(context.Background(), "tcp", net.JoinHostPort("proxy.example", rcv.port(t)))
	if err == nil {
		conn.Close()
		t.Fatal("got a connection, want a refusal")
	}
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("got %v, want an error wrapping ErrForbiddenAddress", err)
	}
	if n := rcv.conns.Load(); n != 0 {
		t.Errorf("got %d connections at the listener, want 0", n)
	}
}

func TestProxyDialerAllowPrivate(t *testing.T) {
	rcv := newReceiver(t, ok)
	conn, err := NewProxyDialer(Options{AllowPrivate: true})(context.Background(), "tcp", rcv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("got %v, want a connection with AllowPrivate", err)
	}
	conn.Close()
}
