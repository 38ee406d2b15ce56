package testsite_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

func TestDedicatedPortClosesAndReopens(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{SiteAddrs: map[string]string{"Down.test": "127.0.0.1:0"}})
	u := f.SiteURL("down")
	if u == "" {
		t.Fatal("no dedicated URL for site down")
	}
	r := do(t, client(5*time.Second, nil, nil), http.MethodGet, u, "ignored.test")
	if r.code != 200 || r.header.Get("X-Testsite-Site") != "down" {
		t.Fatalf("before: got %d site %q (%v), want 200 from down whatever the Host", r.code,
			r.header.Get("X-Testsite-Site"), r.err)
	}
	kept := keepAlive(t, hostOf(t, u))

	mustSet(t, f, "down", testsite.Behaviour{Kind: testsite.KindClosed})
	if _, err := net.DialTimeout("tcp", hostOf(t, u), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial closed port: %v, want connection refused", err)
	}
	_ = kept.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := kept.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("kept-alive connection read %d, %v; want it closed by the server", n, err)
	}
	// The path form on the shared listener still works, as the hijack-close.
	if r := get(t, f.URL("down")); !errors.Is(r.err, io.EOF) {
		t.Errorf("shared listener: got %d %v, want EOF", r.code, r.err)
	}

	mustSet(t, f, "down", testsite.Behaviour{Kind: testsite.KindStatus, Status: 500})
	if r := get(t, u); r.code != 500 {
		t.Errorf("after reopening: got %d (%v), want 500", r.code, r.err)
	}
	if err := f.Reset("down"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if _, ok := f.Sites()["down"]; !ok {
		t.Error("a dedicated-port site disappeared from Sites after Reset")
	}
}

func TestDedicatedPortClosedBeforeRun(t *testing.T) {
	t.Parallel()
	f, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", SiteAddrs: map[string]string{"gone": "127.0.0.1:0"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mustSet(t, f, "gone", testsite.Behaviour{Kind: testsite.KindClosed})
	errc := make(chan error, 1)
	go func() { errc <- f.Run(t.Context()) }()
	t.Cleanup(func() {
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if err := f.WaitReady(t.Context()); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if _, err := net.DialTimeout("tcp", hostOf(t, f.SiteURL("gone")), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial: %v, want connection refused", err)
	}
}

// keepAlive opens a connection and completes one request on it, leaving it
// idle and open.
func keepAlive(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: k.test\r\n\r\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.Close {
		t.Fatal("server did not keep the connection alive")
	}
	return conn
}
