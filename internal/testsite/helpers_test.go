package testsite_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

// start runs a fleet until the test (and its subtests) end.
func start(t *testing.T, opts testsite.Opts) *testsite.Fleet {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	f, err := testsite.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- f.Run(t.Context()) }()
	t.Cleanup(func() {
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := f.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return f
}

// client is a fresh client without keep-alive, so hijacking behaviours do
// not leak into other requests. local, when set, is the source IP.
func client(timeout time.Duration, local net.IP, cfg *tls.Config) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       d.DialContext,
			DisableKeepAlives: true,
			TLSClientConfig:   cfg,
		},
	}
}

// result is what one request produced.
type result struct {
	code     int
	header   http.Header
	body     string
	err      error // request error
	bodyErr  error // error reading the body
	duration time.Duration
}

func do(t *testing.T, c *http.Client, method, url, host string) result {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if host != "" {
		req.Host = host
	}
	began := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err, duration: time.Since(began)}
	}
	defer func() { _ = resp.Body.Close() }()
	body, bodyErr := io.ReadAll(resp.Body)
	return result{code: resp.StatusCode, header: resp.Header, body: string(body), bodyErr: bodyErr,
		duration: time.Since(began)}
}

func get(t *testing.T, url string) result {
	t.Helper()
	return do(t, client(5*time.Second, nil, nil), http.MethodGet, url, "")
}

// raw sends a GET over a plain TCP connection and returns all it reads.
func raw(t *testing.T, addr, path string) (string, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: raw.test\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	data, err := io.ReadAll(conn)
	return string(data), err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func mustSet(t *testing.T, f *testsite.Fleet, site string, b testsite.Behaviour) {
	t.Helper()
	if err := f.Set(site, b); err != nil {
		t.Fatalf("Set(%s): %v", site, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
