package check_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

// fastTarget is a minimal HTTP/1.1 responder (read the request head, write
// a fixed response, close): far cheaper than net/http under the race
// detector, so ten thousand checks stay fast. It returns its URL.
func fastTarget(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { answer(conn) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/"
}

func answer(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	buf := make([]byte, 0, 1024)
	for !bytes.Contains(buf, []byte("\r\n\r\n")) {
		n, err := conn.Read(buf[len(buf):cap(buf)])
		if err != nil || n == 0 {
			return
		}
		buf = buf[:len(buf)+n]
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
}

// leakTargets mixes outcomes so every exit path of Check is exercised:
// success, keyword failure, truncated body, server error, redirects, bodies
// left unread (larger than the limit, an endless event stream), a refused
// port, a TLS verification failure and a TLS handshake that hangs.
func leakTargets(t *testing.T) []uptime.CheckSpec {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ok", okHandler())
	mux.Handle("/truncated", rawResponse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
	mux.Handle("/error", status(http.StatusInternalServerError))
	mux.Handle("/large", body(strings.Repeat("a", 200<<10)))
	mux.Handle("/events", chunks("text/event-stream", true, "data: 1\n\n"))
	mux.Handle("/", redirectChain())
	srv := newServer(t, mux)
	tlsURL := newTLSServer(t, okHandler(), newPKI(t).leaf(t, leafOpts{selfSigned: true}), nil).URL
	return []uptime.CheckSpec{
		{URL: srv.URL + "/ok"},
		{URL: srv.URL + "/ok", Keyword: "absent"},
		{URL: srv.URL + "/truncated"},
		{URL: srv.URL + "/error"},
		{URL: srv.URL + "/2", RedirectPolicy: uptime.RedirectFail},
		{URL: srv.URL + "/2"},
		{URL: srv.URL + "/large"},
		{URL: srv.URL + "/events"},
		{URL: refusedURL(t)},
		{URL: tlsURL},
		{URL: "https://" + hangingListener(t) + "/", Timeout: 50 * time.Millisecond},
	}
}

// Every hundredth check goes to one of the leakTargets, the others to the
// fast target. Not parallel: it counts the whole process's descriptors, which parallel
// tests would disturb. Sequential tests run while parallel ones are paused.
func TestCheckDoesNotLeakDescriptors(t *testing.T) {
	const checks, workers = 10_000, 4
	specs := leakTargets(t)
	fast := uptime.CheckSpec{URL: fastTarget(t)}
	c := newChecker(t, check.Opts{Timeout: 5 * time.Second})
	for _, spec := range append(specs, fast) { // warm up lazily opened descriptors
		c.Check(t.Context(), spec)
	}
	waitSettled := func() int {
		prev, stable := -1, 0
		deadline := time.Now().Add(10 * time.Second)
		for stable < 20 && time.Now().Before(deadline) {
			n := openFDs(t)
			if n == prev {
				stable++
			} else {
				prev, stable = n, 0
			}
			time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
		}
		return prev
	}
	before := waitSettled()

	var wg sync.WaitGroup
	jobs := make(chan uptime.CheckSpec)
	for range workers {
		wg.Go(func() {
			for spec := range jobs {
				if res := c.Check(t.Context(), spec); spec.URL == fast.URL && !res.Success {
					t.Errorf("fast target check failed: %+v", res)
				}
			}
		})
	}
	for i := range checks {
		spec := fast
		if i%100 == 0 {
			spec = specs[(i/100)%len(specs)]
		}
		jobs <- spec
	}
	close(jobs)
	wg.Wait()

	const slack = 8
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := openFDs(t)
		if n <= before+slack {
			t.Logf("descriptors: %d before, %d after %d checks", before, n, checks)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("descriptors: %d before, %d after %d checks: leak", before, n, checks)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}
