package check

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"
)

// DefaultUserAgent is sent with every check unless a custom header overrides it.
const DefaultUserAgent = "jetmon/2.0 (Jetpack Site Uptime Monitor by WordPress.com)"

// Defaults applied by New to zero-valued Opts fields.
const (
	DefaultTimeout  = 10 * time.Second // Jetmon's NET_COMMS_TIMEOUT default
	DefaultMaxConns = 256              // open connections (one descriptor each) across all checks
)

// Opts configures a Checker. The zero value is usable.
type Opts struct {
	// Timeout bounds a whole check (connect, headers and body) when the spec
	// has none. Zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is the default User-Agent header. Empty means DefaultUserAgent.
	UserAgent string
	// CABundle is an optional PEM file whose certificates are trusted in
	// addition to the system roots.
	CABundle string
	// DNSResolver is an optional "ip:port" of the DNS server used for every
	// lookup. Empty means the system's configured resolvers.
	DNSResolver string
	// SourceAddr is an optional local IP every connection (DNS included) is
	// dialled from.
	SourceAddr string
	// MaxConns bounds the connections open at once across all checks. Zero
	// means DefaultMaxConns. A check waiting for a slot spends its own timeout.
	MaxConns int
	// Now is the clock for certificate expiry and Result.CheckedAt. Nil means
	// time.Now. Phase timings always use the monotonic clock.
	Now func() time.Time
}

// settings is Opts after validation, in parsed form.
type settings struct {
	timeout   time.Duration
	userAgent string
	bundle    []*x509.Certificate
	resolver  netip.AddrPort
	source    netip.Addr
	maxConns  int
	now       func() time.Time
}

func (o Opts) settings() (settings, error) {
	s := settings{timeout: o.Timeout, userAgent: o.UserAgent, maxConns: o.MaxConns, now: o.Now}
	switch {
	case o.Timeout < 0:
		return s, fmt.Errorf("timeout %v: must not be negative", o.Timeout)
	case o.Timeout == 0:
		s.timeout = DefaultTimeout
	}
	switch {
	case o.MaxConns < 0:
		return s, fmt.Errorf("max conns %d: must not be negative", o.MaxConns)
	case o.MaxConns == 0:
		s.maxConns = DefaultMaxConns
	}
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.bundle, err = readBundle(o.CABundle); err != nil {
		return s, err
	}
	if s.resolver, err = parseResolver(o.DNSResolver); err != nil {
		return s, err
	}
	if s.source, err = parseSource(o.SourceAddr); err != nil {
		return s, err
	}
	return s, nil
}

func readBundle(path string) ([]*x509.Certificate, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca bundle: %w", err)
	}
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca bundle %q: certificate %d: %w", path, len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("ca bundle %q: no PEM certificates found", path)
	}
	return certs, nil
}

func parseResolver(s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("dns resolver %q: want ip:port: %w", s, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("dns resolver %q: host must be an IP address: %w", s, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("dns resolver %q: port must be 1-65535", s)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

func parseSource(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("source addr %q: %w", s, err)
	}
	if ip.IsUnspecified() || ip.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("source addr %q: must be a unicast address", s)
	}
	return ip.Unmap(), nil
}
