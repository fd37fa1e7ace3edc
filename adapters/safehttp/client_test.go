package safehttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"code.dny.dev/ssrf"
)

// clientHosts holds only addresses the guard refuses: the client tests must
// never dial beyond loopback, and every refusal below happens before a socket
// connects. Names missing here (public.example) do not resolve, so a URL
// check that failed to refuse shows up as a DNS error, never as traffic.
var clientHosts = map[string][]string{
	"internal.example": {"10.0.0.5"},
	"v6local.example":  {"fd12::1"},
	"loopback.example": {"127.0.0.1", "::1"},
}

func TestClientRefuses(t *testing.T) {
	c := NewClient(Options{AllowHTTP: true, Resolver: staticResolver(clientHosts)})
	urls := []string{
		"http://127.0.0.1",
		"http://[::1]",
		"http://169.254.169.254/latest/meta-data",
		"http://0x7f000001",
		"http://2130706433",
		"http://[::ffff:127.0.0.1]",
		"http://10.0.0.1",
		"http://100.64.0.1",
		"http://[fd00::1]",
		"http://[fe80::1%25lo]",
		"http://internal.example/hook",
		"http://loopback.example:8080/hook",
		"http://metadata.google.internal/",
		"http://public.example:22",
		"http://public.example:6379",
		"http://public.example:5432",
		"ftp://public.example/file",
		"http://user:pass@public.example",
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			resp, err := c.Get(u)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got status %d, want a refusal", resp.StatusCode)
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("got %v, want an error wrapping ErrForbiddenAddress", err)
			}
		})
	}
}

func TestClientHTTPSOnlyByDefault(t *testing.T) {
	c := NewClient(Options{Resolver: staticResolver(clientHosts)})
	_, err := c.Get("http://public.example/")
	if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), "must use https") {
		t.Errorf("got %v, want a refusal saying \"must use https\"", err)
	}
}

// TestDialRefuses exercises the dial-time check alone, without the URL
// checks in front of it: the addresses reach the Control hook as they would
// after a DNS answer.
func TestDialRefuses(t *testing.T) {
	p := newPolicy(Options{Resolver: staticResolver(clientHosts)}, allowedPorts)
	tests := []struct {
		addr string
		want error
	}{
		{"127.0.0.1:80", ssrf.ErrProhibitedIP},
		{"[::1]:443", ssrf.ErrProhibitedIP},
		{"169.254.169.254:80", ssrf.ErrProhibitedIP},
		{"[::ffff:127.0.0.1]:80", ssrf.ErrProhibitedIP},
		{"10.0.0.1:443", ssrf.ErrProhibitedIP},
		{"100.64.0.1:80", ssrf.ErrProhibitedIP},
		{"[fd00::1]:443", ssrf.ErrProhibitedIP},
		{"[fe80::1%lo]:80", ssrf.ErrProhibitedIP},
		{"internal.example:443", ssrf.ErrProhibitedIP},
		{"v6local.example:443", ssrf.ErrProhibitedIP},
		{"loopback.example:80", ssrf.ErrProhibitedIP},
		{"127.0.0.1:6379", ssrf.ErrProhibitedPort}, // the library checks the port first
		{"127.0.0.1:5432", ssrf.ErrProhibitedPort},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			conn, err := p.dialContext(context.Background(), "tcp", tt.addr)
			if err == nil {
				conn.Close()
				t.Fatal("got a connection, want a refusal")
			}
			if !errors.Is(err, ErrForbiddenAddress) || !errors.Is(err, tt.want) {
				t.Errorf("got %v, want ErrForbiddenAddress and %v", err, tt.want)
			}
		})
	}
}

// TestResolvedLoopbackNeverConnects points a name at a live loopback server:
// the guard must refuse before the TCP handshake, which the server would see.
func TestResolvedLoopbackNeverConnects(t *testing.T) {
	rcv := newReceiver(t, ok)
	o := Options{AllowHTTP: true, Resolver: staticResolver(map[string][]string{"sneaky.example": {"127.0.0.1"}})}
	c := newClient(o, newPolicy(o, nil)) // any port, so only the address can refuse
	_, err := c.Get("http://sneaky.example:" + rcv.port(t) + "/")
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("got %v, want an error wrapping ErrForbiddenAddress", err)
	}
	if n := rcv.conns.Load(); n != 0 {
		t.Errorf("got %d connections at the receiver, want 0", n)
	}
}

// TestDNSRebinding: the name resolves to a public address when the URL is
// validated and to loopback when the client dials. The dial-time check sees
// the address actually dialled and refuses it.
func TestDNSRebinding(t *testing.T) {
	rcv := newReceiver(t, ok)
	var calls atomic.Int64
	rebinding := resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		if calls.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	o := Options{AllowHTTP: true, Resolver: rebinding}
	p := newPolicy(o, nil)
	if err := p.checkResolution(context.Background(), "rebind.example"); err != nil {
		t.Fatalf("validation: got %v, want nil (the first answer is public)", err)
	}
	_, err := newClient(o, p).Get("http://rebind.example:" + rcv.port(t) + "/")
	if !errors.Is(err, ErrForbiddenAddress) || !errors.Is(err, ssrf.ErrProhibitedIP) {
		t.Fatalf("got %v, want a dial-time refusal", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("got %d lookups, want 2 (validation, then dial)", n)
	}
	if n := rcv.conns.Load(); n != 0 {
		t.Errorf("got %d connections at the receiver, want 0", n)
	}
}

func TestAllowPrivateReachesLoopback(t *testing.T) {
	rcv := newReceiver(t, ok)
	o := Options{AllowPrivate: true, Resolver: staticResolver(map[string][]string{"receiver.test": {"127.0.0.1"}})}
	c := NewClient(o)
	for _, u := range []string{rcv.URL + "/hook", "http://receiver.test:" + rcv.port(t) + "/hook"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("%s: got %v, want a response", u, err)
		}
		body, err := ReadBody(resp.Body, 1024)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Errorf("%s: got %d %q (%v), want 200 \"ok\"", u, resp.StatusCode, body, err)
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	internal := newReceiver(t, ok)
	redirectTo := func(target string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) }
	}

	t.Run("guard lifted, target reachable", func(t *testing.T) {
		front := newReceiver(t, redirectTo(internal.URL+"/admin"))
		assertRedirectReturned(t, NewClient(Options{AllowPrivate: true}), front.URL, internal.URL+"/admin")
		if n := internal.hits.Load(); n != 0 {
			t.Errorf("got %d requests at the redirect target, want 0", n)
		}
	})
	t.Run("guard on, front allowed", func(t *testing.T) {
		target := "http://169.254.169.254/latest/meta-data"
		front := newReceiver(t, redirectTo(target))
		o := Options{AllowHTTP: true}
		p := newPolicy(o, nil, ssrf.WithAllowedV4Prefixes(netip.MustParsePrefix("127.0.0.1/32")))
		assertRedirectReturned(t, newClient(o, p), front.URL, target)
	})
}

func assertRedirectReturned(t *testing.T, c *http.Client, url, wantLocation string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("got %v, want the 302 response", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("got status %d, want %d", resp.StatusCode, http.StatusFound)
	}
	if got := resp.Header.Get("Location"); got != wantLocation {
		t.Errorf("got Location %q, want %q", got, wantLocation)
	}
}

func TestTimeout(t *testing.T) {
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	c := NewClient(Options{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	_, err := c.Get(rcv.URL)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("got %v, want a timeout", err)
	}
}

func TestDefaults(t *testing.T) {
	c := NewClient(Options{})
	if c.Timeout != DefaultTimeout {
		t.Errorf("got timeout %v, want %v", c.Timeout, DefaultTimeout)
	}
	if tr := c.Transport.(*guardedTransport); tr.base.Proxy != nil {
		t.Error("got a proxy function, want none: a proxy would hide the target")
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestRefusalClosesRequestBody(t *testing.T) {
	body := &closeRecorder{Reader: strings.NewReader("{}")}
	req, err := http.NewRequest(http.MethodPost, "http://10.0.0.1/hook", body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(Options{}).Do(req); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("got %v, want an error wrapping ErrForbiddenAddress", err)
	}
	if !body.closed {
		t.Error("got the request body open, want it closed")
	}
}

// TestIdlePerHost: the webhook client keeps an idle connection per
// delivery worker to one host; others keep the default.
func TestIdlePerHost(t *testing.T) {
	for _, c := range []struct{ set, want int }{{0, 10}, {64, 64}, {300, 300}} {
		tr := NewClient(Options{IdlePerHost: c.set}).Transport.(*guardedTransport).base
		if tr.MaxIdleConnsPerHost != c.want || tr.MaxIdleConns < c.want {
			t.Errorf("IdlePerHost %d: got %d per host, %d in all; want %d per host and at least as many in all", c.set, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, c.want)
		}
	}
}
