package testsite_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]testsite.Opts{
		"no port":             {Addr: "localhost"},
		"port out of range":   {Addr: "127.0.0.1:70000"},
		"bad extra addr":      {ExtraAddrs: []string{"nope"}},
		"bad control addr":    {ControlAddr: "127.0.0.1:x"},
		"no room for tls":     {TLSAddr: "127.0.0.1:65533"},
		"negative timeout":    {ShutdownTimeout: -time.Second},
		"bad site name":       {SiteAddrs: map[string]string{"a b": "127.0.0.1:0"}},
		"bad site addr":       {SiteAddrs: map[string]string{"a": "127.0.0.1"}},
		"same site twice":     {SiteAddrs: map[string]string{"a": "127.0.0.1:0", "A.test": "127.0.0.1:0"}},
		"empty site name key": {SiteAddrs: map[string]string{"": "127.0.0.1:0"}},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := testsite.New(opts); !errors.Is(err, testsite.ErrInvalid) {
				t.Errorf("New: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestBindErrorFailsRun(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer func() { _ = busy.Close() }()
	f, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", ExtraAddrs: []string{busy.Addr().String()}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := f.Run(t.Context()); err == nil {
		t.Fatal("Run bound an address already in use")
	}
	if err := f.WaitReady(t.Context()); err == nil {
		t.Error("WaitReady returned nil after a failed Run")
	}
	if err := f.Run(t.Context()); !errors.Is(err, testsite.ErrStopped) {
		t.Errorf("second Run: %v, want ErrStopped", err)
	}
}

func TestCancelReleasesHangingRequests(t *testing.T) {
	t.Parallel()
	f, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", ShutdownTimeout: time.Minute})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mustSet(t, f, "stuck", testsite.Behaviour{Kind: testsite.KindHang})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	if err := f.WaitReady(t.Context()); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	conn, err := net.Dial("tcp", f.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := io.WriteString(conn, "GET /s/stuck/ HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	// The request is now reaching a handler that never answers by itself.
	began := time.Now()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run: %v, want nil after cancel", err)
		}
		if d := time.Since(began); d > 3*time.Second {
			t.Errorf("Run took %s to stop, want well under the 1m shutdown timeout", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := net.DialTimeout("tcp", f.Addr(), time.Second); err == nil {
		t.Error("still listening after Run returned")
	}
}

func TestExtraAddrsServeTheSameSites(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{ExtraAddrs: []string{"127.0.0.1:0", "127.0.0.2:0"}})
	mustSet(t, f, "multi", testsite.Behaviour{Kind: testsite.KindStatus, Status: 504})
	info := f.Info()
	if len(info.ExtraAddrs) != 2 {
		t.Fatalf("extra addrs %v, want 2", info.ExtraAddrs)
	}
	for _, a := range info.ExtraAddrs {
		if r := get(t, "http://"+a+"/s/multi/"); r.code != 504 {
			t.Errorf("%s: got %d (%v), want 504", a, r.code, r.err)
		}
	}
}

func TestFixedTLSPortPlacesVariantsAbove(t *testing.T) {
	t.Parallel()
	base := freePortRun(t, 1+len(testsite.TLSVariants()))
	f := start(t, testsite.Opts{TLSAddr: "127.0.0.1:" + strconv.Itoa(base)})
	for i, v := range testsite.TLSVariants() {
		want := "https://127.0.0.1:" + strconv.Itoa(base+1+i) + "/s/a/"
		if got := f.TLSURL("a", v); got != want {
			t.Errorf("TLSURL(a, %s) = %s, want %s", v, got, want)
		}
	}
}

// freePortRun finds n consecutive free ports and returns the first. The
// ports are released before returning; another process could take one, in
// which case the test fails loudly rather than silently.
func freePortRun(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		base := first.Addr().(*net.TCPAddr).Port
		held := []net.Listener{first}
		for p := base + 1; p < base+n; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				break
			}
			held = append(held, ln)
		}
		for _, ln := range held {
			_ = ln.Close()
		}
		if len(held) == n {
			return base
		}
	}
	t.Fatalf("no run of %d free ports", n)
	return 0
}
