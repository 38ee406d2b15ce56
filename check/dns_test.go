package check_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// dnsServer is a minimal UDP DNS responder for tests: it answers A queries
// for its names and NXDOMAIN for every other name.
type dnsServer struct {
	conn    net.PacketConn
	names   map[string]netip.Addr // lower-case, no trailing dot
	queries atomic.Int64
	source  atomic.Value // netip.Addr of the last query's sender
}

// startDNS serves names on 127.0.0.1 until the test ends; it returns the
// server, whose Addr is the "ip:port" to use as Opts.DNSResolver.
func startDNS(t *testing.T, names map[string]netip.Addr) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: conn, names: names}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serve()
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
	})
	return s
}

// Addr is the server's "ip:port".
func (s *dnsServer) Addr() string { return s.conn.LocalAddr().String() }

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		s.queries.Add(1)
		if ua, ok := from.(*net.UDPAddr); ok {
			s.source.Store(ua.AddrPort().Addr().Unmap())
		}
		if reply, ok := s.reply(buf[:n]); ok {
			_, _ = s.conn.WriteTo(reply, from)
		}
	}
}

// reply builds the answer to a one-question query (RFC 1035 §4.1).
func (s *dnsServer) reply(q []byte) ([]byte, bool) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil, false
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil, false
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l&0xc0 != 0 || i+l > len(q) {
			return nil, false
		}
		labels = append(labels, string(q[i:i+l]))
		i += l
	}
	if i+4 > len(q) {
		return nil, false
	}
	qtype, question := binary.BigEndian.Uint16(q[i:i+2]), q[12:i+4]
	ip, known := s.names[strings.ToLower(strings.Join(labels, "."))]
	flags, answers := uint16(0x8180), uint16(0) // response, recursion desired + available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	if known && qtype == 1 && ip.Is4() {
		answers = 1
	}
	out := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(q[0:2]))
	for _, v := range []uint16{flags, 1, answers, 0, 0} {
		out = binary.BigEndian.AppendUint16(out, v)
	}
	out = append(out, question...)
	if answers == 1 {
		out = append(out, 0xc0, 12) // name: pointer to the question
		for _, v := range []uint16{1, 1, 0, 60, 4} {
			out = binary.BigEndian.AppendUint16(out, v) // type A, class IN, TTL 60, length 4
		}
		a := ip.As4()
		out = append(out, a[:]...)
	}
	return out, true
}
