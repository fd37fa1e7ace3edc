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
	u, err := url.Parse(raw)
	if err != nil {
		return ports.Errorf(ports.EInvalid, "must be a valid URL")
	}
	p := newPolicy(o, allowedPorts)
	if err := p.checkURL(u); err != nil {
		return ports.Errorf(ports.EInvalid, "%s", err)
	}
	return p.checkResolution(ctx, u.Hostname())
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
