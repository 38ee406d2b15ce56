package testsite

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// switchListener is a site's dedicated port. It can stop listening (so
// clients get "connection refused") and listen again on the same address
// while one http.Server.Serve keeps calling Accept: Accept waits while the
// port is shut. Shutting the port also closes the connections it accepted.
type switchListener struct {
	addr net.Addr // bound address, stable across reopen

	mu    sync.Mutex
	inner net.Listener // nil while shut
	conns map[*trackedConn]struct{}
	wake  chan struct{} // closed and replaced whenever inner or final changes
	final bool
}

// listenSwitch binds addr; it stays listening until shut or Close.
func listenSwitch(ctx context.Context, addr string) (*switchListener, error) {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return &switchListener{
		addr:  ln.Addr(),
		inner: ln,
		conns: make(map[*trackedConn]struct{}),
		wake:  make(chan struct{}),
	}, nil
}

// Accept implements net.Listener.
func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		inner, wake, final := l.inner, l.wake, l.final
		l.mu.Unlock()
		switch {
		case final:
			return nil, net.ErrClosed
		case inner == nil:
			<-wake
			continue
		}
		c, err := inner.Accept()
		if tc, retry := l.track(inner, c, err); !retry {
			if err != nil {
				return nil, err //nolint:wrapcheck // http.Server type-asserts Accept errors to net.Error

			}
			return tc, nil
		}
	}
}

// track registers c if inner is still the current listener. retry is true
// when the port was shut (or reopened) meanwhile: c is closed and errors
// from the old listener are not reported.
func (l *switchListener) track(inner net.Listener, c net.Conn, err error) (_ *trackedConn, retry bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inner != inner || l.final {
		if c != nil {
			_ = c.Close()
		}
		return nil, !l.final
	}
	if err != nil {
		return nil, false
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, false
}

// shut stops listening and closes every accepted connection.
func (l *switchListener) shut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inner == nil {
		return
	}
	_ = l.inner.Close()
	l.inner = nil
	for c := range l.conns {
		_ = c.Conn.Close()
	}
	clear(l.conns)
	l.signal()
}

// open listens again on the bound address; a no-op when listening or closed.
func (l *switchListener) open() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inner != nil || l.final {
		return nil
	}
	ln, err := net.Listen("tcp", l.addr.String()) //nolint:noctx // binding a local port does not block; Set has no context

	if err != nil {
		return fmt.Errorf("listen %s: %w", l.addr, err)
	}
	l.inner = ln
	l.signal()
	return nil
}

// Close implements net.Listener: the port stops for good.
func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.final {
		return nil
	}
	l.final = true
	var err error
	if l.inner != nil {
		err = l.inner.Close()
		l.inner = nil
	}
	l.signal()
	return err //nolint:wrapcheck // net.Listener contract: the listener's own error
}

// Addr implements net.Listener.
func (l *switchListener) Addr() net.Addr { return l.addr }

func (l *switchListener) signal() {
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *switchListener) forget(c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
}

// trackedConn removes itself from its listener when closed.
type trackedConn struct {
	net.Conn
	l *switchListener
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.l.forget(c)
	return c.Conn.Close() //nolint:wrapcheck // net.Conn contract: the connection's own error
}

// NetConn returns the underlying connection (as tls.Conn.NetConn does), so
// the reset behaviour can reach SetLinger.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }
