package check_test

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// remoteIP records the client IP of each request.
type remoteIP struct{ last atomic.Value }

func (h *remoteIP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	h.last.Store(host)
	okHandler().ServeHTTP(w, r)
}

func TestCheckNetworkPlacement(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		source     string
		name       string // host name to resolve through the test DNS server; empty: use the IP
		wantRemote string
	}{
		"resolver answers a made-up name":   {name: "made-up.jetmon.test", wantRemote: "127.0.0.1"},
		"source address on an IP target":    {source: "127.0.0.2", wantRemote: "127.0.0.2"},
		"source address for DNS and target": {source: "127.0.0.2", name: "made-up.jetmon.test", wantRemote: "127.0.0.2"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dns := startDNS(t, map[string]netip.Addr{"made-up.jetmon.test": netip.MustParseAddr("127.0.0.1")})
			h := &remoteIP{}
			url := newServer(t, h).URL
			if tt.name != "" {
				url = strings.Replace(url, "127.0.0.1", tt.name, 1)
			}
			c := newChecker(t, check.Opts{DNSResolver: dns.Addr(), SourceAddr: tt.source})
			res := c.Check(t.Context(), uptime.CheckSpec{URL: url})
			if !res.Success {
				t.Fatalf("check failed: %+v", res)
			}
			if got, _ := h.last.Load().(string); got != tt.wantRemote {
				t.Errorf("server saw client %q, want %q", got, tt.wantRemote)
			}
			if tt.name == "" {
				return
			}
			if dns.queries.Load() == 0 || res.DNS <= 0 {
				t.Errorf("DNS server got %d queries, DNS phase %v: want the name resolved there", dns.queries.Load(), res.DNS)
			}
			if src, _ := dns.source.Load().(netip.Addr); tt.source != "" && src.String() != tt.source {
				t.Errorf("DNS query came from %v, want %s", src, tt.source)
			}
		})
	}
}

// MaxConns bounds open connections across checks: with one slot held by a
// check whose server never answers, another check cannot connect at all.
func TestCheckMaxConnsBoundsConnections(t *testing.T) {
	t.Parallel()
	var active, peak atomic.Int64
	release := make(chan struct{})
	hold := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := newServer(t, hold, func(s *http.Server) {
		s.ConnState = func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				peak.Store(max(peak.Load(), active.Add(1)))
			case http.StateClosed, http.StateHijacked:
				active.Add(-1)
			default: // active and idle do not change the count
			}
		}
	})
	c := newChecker(t, check.Opts{MaxConns: 1})
	first := make(chan uptime.Result, 1)
	go func() { first <- c.Check(t.Context(), uptime.CheckSpec{URL: srv.URL, Timeout: 5 * time.Second}) }()
	waitFor(t, func() bool { return active.Load() == 1 })
	second := c.Check(t.Context(), uptime.CheckSpec{URL: srv.URL, Timeout: 200 * time.Millisecond})
	close(release)
	if second.ErrorCode != uptime.ErrorTimeout || second.TCP != 0 {
		t.Errorf("second check: code %v TCP %v, want a timeout waiting for a slot", second.ErrorCode, second.TCP)
	}
	if res := <-first; !res.Success {
		t.Errorf("first check failed: %+v", res)
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("server saw %d concurrent connections, want 1", p)
	}
}

// waitFor polls cond until it holds or the test fails after 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}
