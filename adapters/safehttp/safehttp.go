// Package safehttp is the outbound HTTP client for destinations that tenants
// choose: webhook deliveries and media fetched from a URL. Both are server-side
// request forgery vectors, so every request passes an SSRF guard (SPEC §9):
// loopback, private, link-local (cloud metadata included), unique-local, CGNAT
// and the other special-purpose ranges are refused, ports are limited to
// 80/443/8080/8443, plain http is opt-in, redirects are never followed and
// proxies from the environment are ignored (a proxy would hide the target).
//
// The address check is done by code.dny.dev/ssrf, installed as the
// net.Dialer's Control function, so it runs on the IP address of every socket
// about to connect, after DNS resolution and before the SYN is sent. A library
// was chosen over hand-written checks because the hard part is not the idea but
// the details: the deny lists are generated from the IANA special-purpose
// registries (and kept current by its maintainer), IPv4-mapped IPv6 and zoned
// addresses are handled, and checking in Control rather than before the
// request is what defeats DNS rebinding: the name is never resolved twice for
// one connection. This package adds what a dialer cannot see: the URL's scheme,
// embedded credentials, obscure IPv4 spellings (0x7f000001, 2130706433) that
// some resolvers accept, and well-known internal host names; CheckURL applies
// the same rules, plus the host's current resolution, when a URL is saved.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"
)

// ErrForbiddenAddress is wrapped by every refusal of the guard on a request:
// a destination IP (literal or resolved, checked when dialling), port, host
// name, scheme or embedded credentials. Callers record such failures as
// "refused by the SSRF guard" rather than as an unreachable receiver.
var ErrForbiddenAddress = errors.New("refused by the SSRF guard")

// DefaultTimeout bounds a whole request (connect, headers and body) when
// Options.Timeout is zero: the 15 s of the webhook contract.
const DefaultTimeout = 15 * time.Second

// Resolver looks up host names. *net.Resolver implements it; tests inject a
// fake so that names resolve to chosen addresses without real DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure the guard. The zero value is the strict production
// setting: https only, public addresses only, standard ports only.
type Options struct {
	// AllowPrivate lifts the guard entirely, for local development and tests
	// (WAGATE_WEBHOOK_ALLOW_PRIVATE): private and loopback targets, any port,
	// plain http.
	AllowPrivate bool
	// AllowHTTP permits plain http to public addresses
	// (WAGATE_WEBHOOK_ALLOW_HTTP).
	AllowHTTP bool
	// Timeout bounds a whole request, reading the body included;
	// zero means DefaultTimeout.
	Timeout time.Duration
	// Resolver resolves host names for CheckURL and for the client's dialer;
	// nil means net.DefaultResolver.
	Resolver Resolver
	// IdlePerHost is how many idle connections to one host the client
	// keeps; zero means 10. The webhook client keeps one per delivery
	// worker: many endpoints often share a receiver's host, and a worker
	// that finds no idle connection dials (and a TLS handshake) anew for
	// every request.
	IdlePerHost int
}

// allowedPorts are the only destination ports when the guard is on.
var allowedPorts = []uint16{80, 443, 8080, 8443}

// NewClient returns an HTTP client that enforces the guard on every request
// and every connection. It returns a redirect response (3xx) as is instead of
// following it, so a receiver cannot bounce a request to an internal address;
// callers treat 3xx as they see fit (webhooks: a failed attempt).
func NewClient(o Options) *http.Client {
	return newClient(o, newPolicy(o, allowedPorts))
}

func newClient(o Options, p *policy) *http.Client {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	perHost := o.IdlePerHost
	if perHost <= 0 {
		perHost = 10
	}
	base := &http.Transport{
		Proxy:                 nil, // HTTP(S)_PROXY would dial the proxy, not the checked target
		DialContext:           p.dialContext,
		ForceAttemptHTTP2:     true, // a custom DialContext turns HTTP/2 off unless forced
		MaxIdleConns:          max(100, perHost),
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: &guardedTransport{policy: p, base: base},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guardedTransport checks the parts of the URL the dialer never sees (scheme,
// credentials, host spelling) before handing the request on.
type guardedTransport struct {
	policy *policy
	base   *http.Transport
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.policy.checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body even on error
		}
		return nil, fmt.Errorf("%w: %w", ErrForbiddenAddress, err) // http.Client adds the URL
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (t *guardedTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }
