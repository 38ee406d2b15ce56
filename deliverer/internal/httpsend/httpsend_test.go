package httpsend_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestPost: any answer is a result; the body is capped, valid UTF-8 and
// never split mid-rune; a redirect is the answer, not followed.
func TestPost(t *testing.T) {
	t.Parallel()
	fits := strings.Repeat("a", uptime.MaxResponseBytes)
	long := fits[1:] + "é" + strings.Repeat("b", 8<<10) // é would end at byte MaxResponseBytes+1
	tests := map[string]struct {
		answer http.HandlerFunc
		want   uptime.SendResult
	}{
		"status and body":           {answer: transporttest.Answering(503, "busy"), want: uptime.SendResult{StatusCode: 503, Response: "busy"}},
		"body that just fits":       {answer: transporttest.Answering(200, fits), want: uptime.SendResult{StatusCode: 200, Response: fits}},
		"long body cut at a rune":   {answer: transporttest.Answering(200, long), want: uptime.SendResult{StatusCode: 200, Response: fits[1:]}},
		"invalid UTF-8 is replaced": {answer: transporttest.Answering(200, "ok\xff\xfe"), want: uptime.SendResult{StatusCode: 200, Response: "ok\uFFFD"}},
		"redirect is not followed":  {answer: transporttest.Redirecting("/elsewhere"), want: uptime.SendResult{StatusCode: 302}},
	}
	client := httpsend.NewClient(5 * time.Second)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, tc.answer)
			req, err := httpsend.NewPost(t.Context(), srv.URL+"/in", "jetmon-test/1", []byte(`{"a":"<&>"}`))
			if err != nil {
				t.Fatal(err)
			}
			res, err := httpsend.Post(client, req)
			if err != nil || res != tc.want {
				t.Fatalf("Post = %+v, %v; want %+v", res, err, tc.want)
			}
			r := transporttest.Next(t, got)
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
				r.Header.Get("User-Agent") != "jetmon-test/1" || string(r.Body) != `{"a":"<&>"}` {
				t.Errorf("request = %s %s %v %s", r.Method, r.Path, r.Header, r.Body)
			}
			transporttest.None(t, got)
		})
	}
}

// TestErrorsCarryNoURL: neither a bad URL nor a transport error quotes it.
func TestErrorsCarryNoURL(t *testing.T) {
	t.Parallel()
	_, err := httpsend.NewPost(t.Context(), "http://[::1/SECRET", "ua", nil)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("NewPost of a bad URL: err = %v, want one without the URL", err)
	}
	srv, _ := transporttest.Serve(t, transporttest.Answering(200, ""))
	srv.Close()
	req, err := httpsend.NewPost(t.Context(), srv.URL+"/SECRET", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpsend.Post(httpsend.NewClient(time.Second), req)
	if err == nil || strings.Contains(err.Error(), "SECRET") || res != (uptime.SendResult{}) {
		t.Errorf("Post to a closed server = %+v, %v; want no result and an error without the URL", res, err)
	}
	if plain := errors.New("x"); !errors.Is(httpsend.WithoutURL(plain), plain) {
		t.Error("WithoutURL changed an error that has no URL")
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		s    string
		n    int
		want string
	}{
		"short":          {s: "abc", n: 5, want: "abc"},
		"exact":          {s: "abc", n: 3, want: "abc"},
		"cut":            {s: "abcdef", n: 3, want: "abc"},
		"mid-rune":       {s: "aé", n: 2, want: "a"},
		"after the rune": {s: "aéb", n: 3, want: "aé"},
		"zero":           {s: "abc", n: 0, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := httpsend.Clip(tc.s, tc.n); got != tc.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestEncodeJSON(t *testing.T) {
	t.Parallel()
	got, err := httpsend.EncodeJSON(map[string]string{"url": "https://example.com/?a=1&b=<2>"})
	if err != nil || string(got) != `{"url":"https://example.com/?a=1&b=<2>"}` {
		t.Errorf("EncodeJSON = %s, %v; want compact, unescaped, no newline", got, err)
	}
	if _, err := httpsend.EncodeJSON(func() {}); err == nil {
		t.Error("EncodeJSON encoded a func")
	}
}
