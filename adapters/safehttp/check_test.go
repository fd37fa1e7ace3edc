package safehttp

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

var testHosts = map[string][]string{
	"public.example":   {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"internal.example": {"10.0.0.5"},
	"mixed.example":    {"93.184.216.34", "127.0.0.1"},
	"v6local.example":  {"fd12::1"},
	"metadata.example": {"169.254.169.254"},
}

func TestCheckURLRefuses(t *testing.T) {
	// AllowHTTP is on so that each case is refused for its address, port or
	// form, not merely for using http.
	o := Options{AllowHTTP: true, Resolver: staticResolver(testHosts)}
	tests := []struct {
		url, want string
	}{
		{"http://127.0.0.1", "(127.0.0.1)"},
		{"http://127.0.0.1:8080/hook", "(127.0.0.1)"},
		{"http://[::1]", "(::1)"},
		{"http://169.254.169.254/latest/meta-data", "(169.254.169.254)"},
		{"http://0x7f000001", "(127.0.0.1)"},
		{"http://2130706433", "(127.0.0.1)"},
		{"http://017700000001", "(127.0.0.1)"},
		{"http://0177.0.0.1", "(127.0.0.1)"},
		{"http://127.1", "(127.0.0.1)"},
		{"http://127.0.0.1.", "(127.0.0.1)"},
		{"http://0x7F.0.0.1", "(127.0.0.1)"},
		{"http://[::ffff:127.0.0.1]", "(127.0.0.1)"},
		{"http://[::ffff:7f00:1]", "(127.0.0.1)"},
		{"http://[::ffff:a9fe:a9fe]", "(169.254.169.254)"},
		{"http://[fe80::1%25eth0]", "(fe80::1%eth0)"},
		{"http://[64:ff9b::7f00:1]", "(64:ff9b::7f00:1)"},
		{"http://[::]", "(::)"},
		{"http://10.0.0.1", "(10.0.0.1)"},
		{"http://172.16.0.1", "(172.16.0.1)"},
		{"http://192.168.1.1", "(192.168.1.1)"},
		{"http://100.64.0.1", "(100.64.0.1)"},
		{"http://0.0.0.0", "(0.0.0.0)"},
		{"http://255.255.255.255", "(255.255.255.255)"},
		{"http://224.0.0.1", "(224.0.0.1)"},
		{"http://192.0.2.1", "(192.0.2.1)"},
		{"http://198.18.0.1", "(198.18.0.1)"},
		{"http://[fd00::1]", "(fd00::1)"},
		{"http://[2001:db8::1]", "(2001:db8::1)"},
		{"http://internal.example/hook", "must not resolve to a private"},
		{"http://mixed.example/hook", "must not resolve to a private"},
		{"http://v6local.example/hook", "must not resolve to a private"},
		{"https://metadata.example/hook", "must not resolve to a private"},
		{"http://localhost:8080", "internal host name"},
		{"http://LocalHost.", "internal host name"},
		{"http://api.localhost", "internal host name"},
		{"http://metadata.google.internal/computeMetadata/v1/", "internal host name"},
		{"http://public.example:22", "must use port 80, 443, 8080 or 8443"},
		{"http://public.example:6379", "must use port 80, 443, 8080 or 8443"},
		{"http://public.example:5432", "must use port 80, 443, 8080 or 8443"},
		{"http://public.example:0", "must have a valid port"},
		{"ftp://public.example/file", "must use http or https"},
		{"gopher://public.example", "must use http or https"},
		{"http://user:pass@public.example", "must not contain credentials"},
		{"http://user@public.example", "must not contain credentials"},
		{"https://", "must include a host"},
		{"https:public.example", "must include a host"},
		{"/relative/path", "must use http or https"},
		{"http://[::1", "must be a valid URL"},
		{"http://1.2.3.4.5", "must have a valid host"},
		{"http://08.0.0.1", "must have a valid host"},
		{"http://134744072", "dotted-decimal form"},
		{"http://nxdomain.example", "must have a host name that resolves"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckURL(context.Background(), tt.url, o)
			if got := ports.ErrorCodeOf(err); got != ports.EInvalid {
				t.Fatalf("got code %q (%v), want %q", got, err, ports.EInvalid)
			}
			if msg := ports.AsError(err).Message; !strings.Contains(msg, tt.want) {
				t.Errorf("got message %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

func TestCheckURLAccepts(t *testing.T) {
	resolver := staticResolver(testHosts)
	tests := []struct {
		name string
		url  string
		o    Options
	}{
		{"https public name", "https://public.example/hooks?x=1", Options{}},
		{"https port 8443", "https://public.example:8443/hooks", Options{}},
		{"https public IPv4 literal", "https://93.184.216.34/", Options{}},
		{"https public IPv6 literal", "https://[2606:2800:220:1:248:1893:25c8:1946]/", Options{}},
		{"http when allowed", "http://public.example:8080/", Options{AllowHTTP: true}},
		{"private: loopback any port", "http://127.0.0.1:9999/hook", Options{AllowPrivate: true}},
		{"private: IPv6 loopback", "http://[::1]:5432", Options{AllowPrivate: true}},
		{"private: private name", "http://internal.example:22/", Options{AllowPrivate: true}},
		{"private: localhost", "http://localhost:3000/", Options{AllowPrivate: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Resolver = resolver
			if err := CheckURL(context.Background(), tt.url, tt.o); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestCheckURLScheme(t *testing.T) {
	o := Options{Resolver: staticResolver(testHosts)}
	err := CheckURL(context.Background(), "http://public.example/", o)
	if got := ports.AsError(err); got == nil || got.Message != "must use https" {
		t.Errorf("got %v, want EInvalid \"must use https\"", err)
	}
}

func TestCheckURLAllowPrivateKeepsFormRules(t *testing.T) {
	o := Options{AllowPrivate: true, Resolver: staticResolver(testHosts)}
	for _, raw := range []string{"ftp://127.0.0.1/", "http://u:p@127.0.0.1/", "http://2130706433/"} {
		if got := ports.ErrorCodeOf(CheckURL(context.Background(), raw, o)); got != ports.EInvalid {
			t.Errorf("%s: got code %q, want %q", raw, got, ports.EInvalid)
		}
	}
}

func TestCheckURLDNSFailureIsUnavailable(t *testing.T) {
	o := Options{Resolver: resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "i/o timeout", Name: "public.example", IsTimeout: true}
	})}
	err := CheckURL(context.Background(), "https://public.example/", o)
	if got := ports.ErrorCodeOf(err); got != ports.EUnavailable {
		t.Errorf("got code %q (%v), want %q", got, err, ports.EUnavailable)
	}
}

func TestParseLegacyIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when invalid
	}{
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"1.2.3.4", "1.2.3.4"},
		{"0x", "0.0.0.0"},
		{"1.16777215", "1.255.255.255"},
		{"1.16777216", ""},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"256.1.1.1", ""},
		{"1.2.3.4.5", ""},
		{"08", ""},
		{"1..2", ""},
		{"0xg", ""},
		{"-1", ""},
	}
	for _, tt := range tests {
		got, ok := parseLegacyIPv4(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: got %s, want invalid", tt.in, got)
		case tt.want != "" && (!ok || got.String() != tt.want):
			t.Errorf("%s: got %s (ok %v), want %s", tt.in, got, ok, tt.want)
		}
	}
}
