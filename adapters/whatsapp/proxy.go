package whatsapp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"golang.org/x/net/proxy"
)

// dialFunc opens a connection, like net.Dialer.DialContext.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// proxyClient returns the HTTP client of an instance whose connections go
// through the proxy at raw (http, https or socks5, the schemes whatsmeow's
// SetProxyAddress knows). It replaces SetProxyAddress because that builds
// its own dialer: here every connection to the proxy goes through dial, so
// the address the proxy's name resolves to at connect time is checked, not
// only the URL that was saved.
func proxyClient(raw string, dial dialFunc) (*http.Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // never the environment's proxy
	t.DialContext = dial
	switch u.Scheme {
	case "http", "https":
		t.Proxy = http.ProxyURL(u)
	case "socks5":
		px, err := proxy.FromURL(u, contextDialer(dial))
		if err != nil {
			return nil, err
		}
		// The SOCKS dialer reaches the proxy through dial and asks it
		// for WhatsApp's address; it implements ContextDialer.
		t.DialContext = px.(proxy.ContextDialer).DialContext
	default:
		return nil, fmt.Errorf("unsupported proxy scheme %q", u.Scheme)
	}
	return &http.Client{Transport: t}, nil
}

// contextDialer lets x/net/proxy use a dialFunc as its forward dialer; it
// calls DialContext when the forward dialer has it.
type contextDialer dialFunc

func (d contextDialer) Dial(network, address string) (net.Conn, error) {
	return d(context.Background(), network, address)
}

func (d contextDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return d(ctx, network, address)
}
