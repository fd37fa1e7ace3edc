package whatsapp_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/wagate/wagate/adapters/safehttp"
	"github.com/wagate/wagate/adapters/whatsapp"
	"github.com/wagate/wagate/ports"
)

// proxyListener is a TCP listener on loopback standing for a service a
// tenant must not reach through the proxy setting (Redis, say): it counts
// connections and closes them.
func proxyListener(t *testing.T) (port string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, conns
}

// realNetwork makes the manager use instance proxies (the simulator's
// client would carry every connection instead) through the guarded dialer.
func realNetwork(o safehttp.Options) envOption {
	return func(opt *whatsapp.Options) {
		opt.HTTPClient = nil
		opt.ProxyDial = safehttp.NewProxyDialer(o)
	}
}

// TestProxyGuardAtDial: a proxy whose name resolves to loopback
// ("localhost", from the hosts file), as a saved public name re-pointed
// later would, is refused when the client connects: the listener never sees
// a connection, for either scheme. With private targets allowed the same
// connect reaches it, which shows the connection really goes through the
// proxy setting.
func TestProxyGuardAtDial(t *testing.T) {
	for _, scheme := range []string{"http", "socks5"} {
		t.Run(scheme, func(t *testing.T) {
			port, conns := proxyListener(t)
			url := scheme + "://localhost:" + port
			e := newEnv(t, realNetwork(safehttp.Options{}))
			// The first attempt is made before Connect returns (later ones
			// are whatsmeow's background reconnects), so counting now is
			// not a race; the lax case below shows the same timing.
			_ = e.m.Connect(context.Background(), "inst-1", ports.ConnectOptions{ProxyURL: url})
			if n := conns.Load(); n != 0 {
				t.Errorf("got %d connections at the loopback listener, want 0", n)
			}

			lax := newEnv(t, realNetwork(safehttp.Options{AllowPrivate: true}))
			_ = lax.m.Connect(context.Background(), "inst-2", ports.ConnectOptions{ProxyURL: url})
			if n := conns.Load(); n == 0 {
				t.Errorf("got no connection at the listener with private targets allowed, want the proxy dialled")
			}
		})
	}
}
