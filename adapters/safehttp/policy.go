package safehttp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"code.dny.dev/ssrf"
)

// policy is the guard's rule set, derived once from Options and shared by
// CheckURL, the transport and the dialer so that they never disagree.
type policy struct {
	allowPrivate bool
	allowHTTP    bool
	ports        []uint16       // nil: any port
	guardian     *ssrf.Guardian // nil when allowPrivate: nothing to refuse
	resolver     Resolver
}

// newPolicy builds the policy. ports is a parameter, and extra ssrf options
// may be added, only so that tests can reach an httptest server (random port
// on 127.0.0.1) with the guard otherwise on.
func newPolicy(o Options, ports []uint16, extra ...ssrf.Option) *policy {
	p := &policy{allowPrivate: o.AllowPrivate, allowHTTP: o.AllowHTTP, resolver: o.Resolver}
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	if o.AllowPrivate {
		return p
	}
	p.ports = ports
	opts := append([]ssrf.Option{ssrf.WithPorts(ports...)}, extra...)
	if ports == nil {
		opts = append([]ssrf.Option{ssrf.WithAnyPort()}, extra...)
	}
	p.guardian = ssrf.New(opts...)
	return p
}

// checkURL applies every rule that needs no DNS: scheme, credentials, host,
// port, literal IP addresses in any spelling and internal host names.
// Its messages read as the message of an invalid field.
func (p *policy) checkURL(u *url.URL) error {
	if err := p.checkScheme(u.Scheme); err != nil {
		return err
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	return p.checkTarget(u)
}

// checkTarget applies the rules on where a URL points: host, port, literal
// addresses in any spelling and internal host names.
func (p *policy) checkTarget(u *url.URL) error {
	if u.Hostname() == "" {
		return errors.New("must include a host")
	}
	if err := p.checkPort(u); err != nil {
		return err
	}
	return p.checkHost(u.Hostname())
}

func (p *policy) checkScheme(scheme string) error {
	switch {
	case scheme == "https":
		return nil
	case scheme == "http" && (p.allowHTTP || p.allowPrivate):
		return nil
	case p.allowHTTP || p.allowPrivate:
		return errors.New("must use http or https")
	default:
		return errors.New("must use https")
	}
}

func (p *policy) checkPort(u *url.URL) error {
	raw := u.Port()
	if raw == "" {
		return nil // the scheme's default port, 80 or 443
	}
	port, err := strconv.ParseUint(raw, 10, 16)
	if err != nil || port == 0 {
		return errors.New("must have a valid port")
	}
	if p.ports != nil && !slices.Contains(p.ports, uint16(port)) {
		return fmt.Errorf("must use port %s", portList(p.ports))
	}
	return nil
}

// checkHost refuses forbidden literal addresses and names. Besides the
// canonical forms it decodes the inet_aton(3) spellings that the WHATWG URL
// standard and libc resolvers accept (2130706433, 0x7f000001, 0177.1, 127.1)
// but Go's parsers do not: such a host would otherwise pass as a "name".
func (p *policy) checkHost(host string) error {
	if addr, err := netip.ParseAddr(host); err == nil {
		return p.checkLiteral(addr)
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if endsInNumber(name) {
		addr, ok := parseLegacyIPv4(name)
		if !ok {
			return errors.New("must have a valid host")
		}
		if err := p.checkLiteral(addr); err != nil {
			return err
		}
		return fmt.Errorf("must write the IPv4 address %s in dotted-decimal form", addr)
	}
	if !p.allowPrivate && isInternalName(name) {
		return errors.New("must not point at an internal host name")
	}
	return nil
}

// checkLiteral refuses an IP address written in the URL.
func (p *policy) checkLiteral(addr netip.Addr) error {
	if p.forbidden(addr) {
		return fmt.Errorf("must not point at a private, loopback or reserved address (%s)", addr.Unmap())
	}
	return nil
}

// forbidden reports whether the guard refuses addr. IPv4-mapped IPv6 is
// unmapped first, as the dialer does, so ::ffff:8.8.8.8 is judged as 8.8.8.8.
func (p *policy) forbidden(addr netip.Addr) bool {
	if p.guardian == nil {
		return false
	}
	return p.guardian.SafeAddr(addr.Unmap()) != nil
}

// internalNames are names that point at cloud metadata services or at the
// machine itself whatever DNS says.
var internalNames = []string{
	"localhost",
	"metadata",
	"metadata.google.internal",
	"metadata.goog",
	"instance-data",
	"instance-data.ec2.internal",
}

func isInternalName(name string) bool {
	return slices.Contains(internalNames, name) || strings.HasSuffix(name, ".localhost")
}

// endsInNumber reports whether the last label of name is numeric (decimal or
// 0x hex). Following the WHATWG URL standard, such a host is an IPv4 address
// or invalid, never a DNS name.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// parseLegacyIPv4 decodes an IPv4 address as inet_aton(3) does: one to four
// dot-separated parts, each decimal, octal (leading 0) or hex (0x), the last
// part filling the remaining bytes.
func parseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var n uint64
	for i, part := range parts {
		v, ok := parseIPv4Part(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if v > 0xff {
				return netip.Addr{}, false
			}
			n |= v << (8 * (3 - i))
			continue
		}
		if v >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		n |= v
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseIPv4Part(s string) (uint64, bool) {
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true // "0x" alone is zero, per WHATWG
		}
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	v, err := strconv.ParseUint(s, base, 32)
	return v, err == nil
}

func portList(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
