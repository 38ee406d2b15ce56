package wpcom_test

import (
	"bytes"
	"encoding/json"
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

// update rewrites the golden files: go test ./deliverer/wpcom -update.
var update = flag.Bool("update", false, "rewrite testdata golden files")

// at is the fixed time of every fixture.
func at() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC) }

// received is one request a receiver got.
type received struct {
	method, path string
	header       http.Header
	body         []byte
}

// serve records every request on the returned channel, then lets answer
// respond.
func serve(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: b}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// answering answers every request with status and body.
func answering(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
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

// none fails the test if the receiver got a request.
func none(t *testing.T, got <-chan received) {
	t.Helper()
	select {
	case r := <-got:
		t.Fatalf("the receiver got %s %s, want no request", r.method, r.path)
	default:
	}
}

// eventually polls cond until it holds, failing the test after 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// dump renders a request for a golden file: request line, sorted headers,
// blank line, the JSON body indented.
func (r received) dump(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", r.method, r.path)
	for _, name := range slices.Sorted(mapKeys(r.header)) {
		fmt.Fprintf(&b, "%s: %s\n", name, strings.Join(r.header[name], ", "))
	}
	b.WriteString("\n")
	if err := json.Indent(&b, r.body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.body)
	}
	b.WriteString("\n")
	return b.Bytes()
}

func mapKeys(h http.Header) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}
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
