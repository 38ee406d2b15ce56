package transporttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// Received is one request a receiver got.
type Received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Serve starts a receiver that records every request on the returned
// channel (up to 64 unread), then lets answer respond. It closes with the
// test.
func Serve(t testing.TB, answer http.HandlerFunc) (*httptest.Server, <-chan Received) {
	t.Helper()
	got := make(chan Received, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- Received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// Answering answers every request with status and body.
func Answering(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Redirecting answers every request 302 Found to location.
func Redirecting(location string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", location)
		w.WriteHeader(http.StatusFound)
	}
}

// Next is the receiver's next request; it fails the test if none comes
// within 5 s.
func Next(t testing.TB, got <-chan Received) Received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver got no request")
		return Received{}
	}
}

// None fails the test if the receiver got a request not yet taken.
func None(t testing.TB, got <-chan Received) {
	t.Helper()
	select {
	case r := <-got:
		t.Fatalf("the receiver got %s %s, want no request", r.Method, r.Path)
	default:
	}
}

// Dump renders r for a golden file: the request line, the headers sorted
// by name, a blank line, then the body as sent.
func (r Received) Dump() []byte {
	b := r.head()
	b.Write(r.Body)
	b.WriteString("\n")
	return b.Bytes()
}

// DumpJSON is Dump with the body indented as JSON; it fails the test if
// the body is not JSON.
func (r Received) DumpJSON(t testing.TB) []byte {
	t.Helper()
	b := r.head()
	b.Write(IndentJSON(t, r.Body))
	return b.Bytes()
}

func (r Received) head() *bytes.Buffer {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.Path)
	for _, name := range slices.Sorted(maps.Keys(r.Header)) {
		fmt.Fprintf(&b, "%s: %s\n", name, strings.Join(r.Header[name], ", "))
	}
	b.WriteString("\n")
	return &b
}

// IndentJSON is body indented by two spaces, with a final newline; it
// fails the test if body is not JSON.
func IndentJSON(t testing.TB, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	b.WriteString("\n")
	return b.Bytes()
}
