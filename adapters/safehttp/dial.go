package safehttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// dialAttemptTimeout bounds one connection attempt, so that an unreachable
// first address leaves time for the next one within the request's deadline.
const dialAttemptTimeout = 5 * time.Second

// dialContext resolves the host with the policy's resolver and dials each
// address in turn. The guard is not applied to the resolved list here: it runs
// in the dialer's Control hook on the socket address actually being
// connected, which is the only check that DNS rebinding cannot outrun.
func (p *policy) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	addrs, err := p.lookup(ctx, network, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: dialAttemptTimeout, KeepAlive: 30 * time.Second, Control: p.control}
	var errs []error
	for _, addr := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(addr.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// lookup returns the addresses of host; an IP literal is its own answer.
func (p *policy) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	ipNet := "ip"
	switch network {
	case "tcp4":
		ipNet = "ip4"
	case "tcp6":
		ipNet = "ip6"
	}
	addrs, err := p.resolver.LookupNetIP(ctx, ipNet, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return addrs, nil
}

// control is the net.Dialer Control hook: it runs after the socket is created
// and before it connects, with the numeric address about to be dialled.
func (p *policy) control(network, address string, c syscall.RawConn) error {
	if p.guardian == nil {
		return nil
	}
	if err := p.guardian.Safe(network, address, c); err != nil {
		return fmt.Errorf("%w: %w", ErrForbiddenAddress, err)
	}
	return nil
}

// DialFunc dials a network address, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// NewProxyDialer returns the dialer for connections to tenants' proxies: any
// port, but the guard runs on every address about to be connected, so a
// proxy name re-pointed at an internal address after CheckProxyURL is
// refused (ErrForbiddenAddress) before a packet is sent.
func NewProxyDialer(o Options) DialFunc {
	return newPolicy(o, nil).dialContext
}
