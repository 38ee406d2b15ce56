package check

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// deadlineKey carries a check's deadline to the transport's dial functions.
// net/http dials with a context detached from the request's cancellation and
// deadline (a dial may outlive the request that started it), which would
// leave a hanging DNS lookup, connect or TLS handshake unbounded after the
// check gave up, holding a descriptor and a connection slot. A check
// cancelled before its deadline leaves its dial to end at that deadline.
type deadlineKey struct{}

// withDialDeadline records ctx's deadline for dials made on its behalf.
func withDialDeadline(ctx context.Context) context.Context {
	if d, ok := ctx.Deadline(); ok {
		return context.WithValue(ctx, deadlineKey{}, d)
	}
	return ctx
}

// dialer opens the connections of every check: it honours the source
// address and resolver, bounds the number of open connections and bounds
// each connection's whole life by its check's deadline.
type dialer struct {
	net     net.Dialer
	network string // "tcp4" or "tcp6" when a source address pins the family
	slots   chan struct{}
	tls     *tlsPolicy
}

func newDialer(s settings, policy *tlsPolicy) *dialer {
	d := &dialer{
		net: net.Dialer{
			KeepAlive: -1, // one request per connection: no TCP keep-alive probes
			Resolver:  newResolver(s.resolver, s.source),
		},
		slots: make(chan struct{}, s.maxConns),
		tls:   policy,
	}
	if s.source.IsValid() {
		d.net.LocalAddr = localAddr("tcp", s.source)
		d.network = "tcp6"
		if s.source.Is4() {
			d.network = "tcp4"
		}
	}
	return d
}

// dial is the transport's DialContext: a TCP connection that holds one slot
// until it is closed and whose deadline is the check's deadline.
func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	deadline, bounded := ctx.Value(deadlineKey{}).(time.Time)
	if bounded {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a connection slot: %w", ctx.Err())
	}
	if d.network != "" && network == "tcp" {
		network = d.network
	}
	conn, err := d.net.DialContext(ctx, network, addr)
	if err != nil {
		<-d.slots
		return nil, err
	}
	if bounded {
		if err := conn.SetDeadline(deadline); err != nil {
			_ = conn.Close()
			<-d.slots
			return nil, fmt.Errorf("set connection deadline: %w", err)
		}
	}
	return &slotConn{Conn: conn, slots: d.slots}, nil
}

// dialTLS is the transport's DialTLSContext. It returns the TLS client
// before the handshake: net/http then performs the handshake itself and
// fires the TLSHandshakeStart/Done trace hooks around it. Dialling TLS here
// (rather than through Transport.TLSClientConfig) gives every connection a
// config that knows its target host, which certificate verification needs
// even for IP-address targets, where no SNI is sent.
func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tls dial %q: %w", addr, err)
	}
	conn, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return tls.Client(conn, d.tls.clientConfig(host)), nil
}

// slotConn releases its connection slot when closed.
type slotConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

// Close closes the connection and frees its slot once.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.slots })
	return err
}

// newResolver returns nil (the default resolver) unless a DNS server or a
// source address is configured; then lookups use Go's resolver, sent to the
// configured server (or the system's) from the source address.
func newResolver(server netip.AddrPort, source netip.Addr) *net.Resolver {
	if !server.IsValid() && !source.IsValid() {
		return nil
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			if server.IsValid() {
				address = server.String()
			}
			d := net.Dialer{LocalAddr: localAddr(network, source)}
			return d.DialContext(ctx, network, address)
		},
	}
}

// localAddr is the net.Addr of the right type for network, or nil (an
// untyped nil: a typed nil pointer would not compare equal to nil).
func localAddr(network string, ip netip.Addr) net.Addr {
	if !ip.IsValid() {
		return nil
	}
	if strings.HasPrefix(network, "udp") {
		return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))
}
