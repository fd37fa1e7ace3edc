package safehttp

import (
	"context"
	"errors"
	"net"
	"net/url"

	"github.com/wagate/wagate/ports"
)

// CheckURL validates a URL a tenant wants saved (a webhook endpoint) or
// fetched (media): scheme, credentials, host, port, literal addresses in any
// spelling, internal names and, unless o.AllowPrivate, every address the host
// resolves to right now. It returns a *ports.Error: EInvalid with a message
// that reads as a field's ("must use https"), the caller naming the field; or
// EUnavailable when DNS could not answer, which is worth retrying.
//
// Passing CheckURL does not make later requests safe on its own (the name can
// be re-pointed at any time); the client returned by NewClient checks again on
// every connection.
func CheckURL(ctx context.Context, raw string, o Options) error {
	p := newPolicy(o, allowedPorts)
	return p.check(ctx, raw, p.checkURL)
}

// checkResolution refuses a host name that currently resolves to any
// forbidden address. Resolved addresses are not echoed in the message: they
// would tell a tenant about the internal network.
func (p *policy) checkResolution(ctx context.Context, host string) error {
	if p.guardian == nil {
		return nil
	}
	addrs, err := p.lookup(ctx, "tcp", host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return ports.Errorf(ports.EInvalid, "must have a host name that resolves")
	case err != nil:
		return ports.Errorf(ports.EUnavailable, "could not resolve the host name; try again")
	}
	for _, addr := range addrs {
		if p.forbidden(addr) {
			return ports.Errorf(ports.EInvalid, "must not resolve to a private, loopback or reserved address")
		}
	}
	return nil
}

// CheckProxyURL validates the URL of a proxy that a tenant wants the server
// to connect through: the rules of CheckURL on where it points, but on any
// port and whatever its scheme and credentials (a proxy's scheme and
// password are its own business; the caller checks the schemes it can use).
// Same errors as CheckURL.
func CheckProxyURL(ctx context.Context, raw string, o Options) error {
	p := newPolicy(o, nil)
	return p.check(ctx, raw, p.checkTarget)
}

// check parses raw, applies the rules that need no DNS, then the host's
// current resolution.
func (p *policy) check(ctx context.Context, raw string, rules func(*url.URL) error) error {
	u, err := url.Parse(raw)
	if err != nil {
		return ports.Errorf(ports.EInvalid, "must be a valid URL")
	}
	if err := rules(u); err != nil {
		return ports.Errorf(ports.EInvalid, "%s", err)
	}
	return p.checkResolution(ctx, u.Hostname())
}
