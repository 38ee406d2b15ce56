package check_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// hangingListener accepts connections and never answers: a TLS handshake
// against it hangs until the check's deadline. It closes its side of a
// connection when the client closes, and everything at the end of the test.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[conn] = true
			mu.Unlock()
			wg.Go(func() {
				_, _ = io.Copy(io.Discard, conn)
				_ = conn.Close()
				mu.Lock()
				delete(conns, conn)
				mu.Unlock()
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// Regression for Jetmon a06ee1d: a phase whose start hook fired but whose
// done hook did not (or failed) must report zero, never a negative duration.
func TestCheckFailedPhasesReportZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := map[string]struct {
		url     func(t *testing.T) string
		timeout time.Duration
		want    uptime.ErrorCode
		zero    []string // phases that did not complete: zero
		done    []string // phases that completed: positive
	}{
		"refused port": {
			url: refusedURL, want: uptime.ErrorConnect, zero: []string{"TCP", "TLS", "TTFB"},
		},
		"dns failure": {
			url:  func(*testing.T) string { return "https://missing.jetmon.test/" },
			want: uptime.ErrorConnect, zero: []string{"DNS", "TCP", "TLS", "TTFB"},
		},
		"tls handshake failure": {
			url: func(t *testing.T) string {
				return e.tlsURL(t, http.NotFoundHandler(), leafOpts{selfSigned: true}, nil)
			},
			want: uptime.ErrorSSL, zero: []string{"TLS", "TTFB"}, done: []string{"TCP"},
		},
		"tls handshake hangs": {
			url:     func(t *testing.T) string { return "https://" + hangingListener(t) + "/" },
			timeout: 200 * time.Millisecond, want: uptime.ErrorTimeout, zero: []string{"TLS", "TTFB"}, done: []string{"TCP"},
		},
		"response headers time out": {
			url:     func(t *testing.T) string { return newServer(t, blockUntilDone()).URL },
			timeout: 200 * time.Millisecond, want: uptime.ErrorTimeout, zero: []string{"TTFB"}, done: []string{"TCP"},
		},
		"dns name then refused": {
			url: func(t *testing.T) string {
				return strings.Replace(refusedURL(t), "127.0.0.1", testHost, 1)
			},
			want: uptime.ErrorConnect, zero: []string{"TCP", "TLS", "TTFB"}, done: []string{"DNS"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := e.checker.Check(t.Context(), uptime.CheckSpec{URL: tt.url(t), Timeout: tt.timeout})
			assertDurations(t, res)
			if res.ErrorCode != tt.want {
				t.Errorf("ErrorCode = %v, want %v", res.ErrorCode, tt.want)
			}
			phases := map[string]time.Duration{"DNS": res.DNS, "TCP": res.TCP, "TLS": res.TLS, "TTFB": res.TTFB}
			for _, p := range tt.zero {
				if phases[p] != 0 {
					t.Errorf("%s = %v, want 0 (phase did not complete)", p, phases[p])
				}
			}
			for _, p := range tt.done {
				if phases[p] <= 0 {
					t.Errorf("%s = %v, want > 0 (phase completed)", p, phases[p])
				}
			}
		})
	}
}

// Every check opens a fresh connection, so every phase is measured every
// time, and the phases fit inside the round trip.
func TestCheckMeasuresEveryPhaseEveryTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	remotes := map[string]bool{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		okHandler().ServeHTTP(w, r)
	})
	url := strings.Replace(e.tlsURL(t, h, leafOpts{hosts: []string{testHost}}, nil), "127.0.0.1", testHost, 1)
	const checks = 3
	for range checks {
		res := e.checker.Check(t.Context(), uptime.CheckSpec{URL: url})
		if !res.Success {
			t.Fatalf("check failed: %+v", res)
		}
		if res.DNS <= 0 || res.TCP <= 0 || res.TLS <= 0 || res.TTFB <= 0 {
			t.Errorf("DNS %v TCP %v TLS %v TTFB %v: want all > 0", res.DNS, res.TCP, res.TLS, res.TTFB)
		}
		if sum := res.DNS + res.TCP + res.TLS + res.TTFB; res.RTT < sum {
			t.Errorf("RTT %v < sum of phases %v", res.RTT, sum)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(remotes) != checks {
		t.Errorf("server saw %d distinct connections, want %d (one per check)", len(remotes), checks)
	}
}
