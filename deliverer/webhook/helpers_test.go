package webhook_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// update rewrites the golden files: go test ./deliverer/webhook -update.
var update = flag.Bool("update", false, "rewrite testdata golden files")

// at is the fixed time of every fixture (t=1773500966).
func at() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC) }

// received is one request a receiver got.
type received struct {
	method, path string
	header       http.Header
	body         []byte
}

// receiver answers every request with status and body and hands each
// request it got to the returned channel.
func receiver(t *testing.T, status int, body string) (*httptest.Server, <-chan received) {
	t.Helper()
	return serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// serve records every request on the returned channel, then lets answer
// respond.
func serve(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: b}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// next returns the receiver's next request, failing the test if none came.
func next(t *testing.T, got <-chan received) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver got no request")
		return received{}
	}
}

// dump renders a request for a golden file: request line, sorted headers,
// blank line, body as sent.
func (r received) dump() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", r.method, r.path)
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range r.header {
			if !yield(name) {
				return
			}
		}
	})
	for _, name := range names {
		fmt.Fprintf(&b, "%s: %s\n", name, strings.Join(r.header[name], ", "))
	}
	b.WriteString("\n")
	b.Write(r.body)
	b.WriteString("\n")
	return b.Bytes()
}

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed (go test -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// payload is the fixture frozen payload.
func payload(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
