package checkreport_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/checkreport"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// update is the standard golden-file flag: go test ./internal/checkreport -update.
var update = flag.Bool("update", false, "rewrite testdata golden files")

// checkedAt is the fixed check time of every fixture.
func checkedAt() time.Time { return time.Date(2026, 1, 15, 9, 30, 0, 123456789, time.UTC) }

func ptr[T any](v T) *T { return &v }

// rows are the golden cases: testdata/<name>.txt and testdata/<name>.json.
func rows() map[string]uptime.Result {
	checkedAt := checkedAt()
	return map[string]uptime.Result{
		"success": {
			URL: "https://example.com/", FinalURL: "https://www.example.com/", Method: "GET",
			Success: true, HTTPCode: 200, RedirectChanged: true,
			RTT: 187600 * time.Microsecond, DNS: 12 * time.Millisecond, TCP: 23 * time.Millisecond,
			TLS: 45 * time.Millisecond, TTFB: 98 * time.Millisecond,
			TLSVersion: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
			SSLExpiry: ptr(checkedAt.Add(58*24*time.Hour + 3*time.Hour)), CheckedAt: checkedAt,
		},
		"refused": {
			URL: "http://127.0.0.1:1/", ErrorCode: uptime.ErrorConnect,
			RTT: 400 * time.Microsecond, CheckedAt: checkedAt,
		},
		"tls_expired": {
			URL: "https://expired.example/", Method: "GET", ErrorCode: uptime.ErrorTLSExpired,
			RTT: 96 * time.Millisecond, DNS: 5 * time.Millisecond, TCP: 30 * time.Millisecond, TLS: 60 * time.Millisecond,
			TLSVersion: tls.VersionTLS12, CipherSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			SSLExpiry: ptr(checkedAt.Add(-3*24*time.Hour - 4*time.Hour)), CheckedAt: checkedAt,
		},
		"keyword_missing": {
			URL: "https://shop.example/", FinalURL: "https://shop.example/", Method: "GET",
			HTTPCode: 200, ErrorCode: uptime.ErrorKeyword, KeywordRule: uptime.KeywordRequired,
			RTT: 310 * time.Millisecond, DNS: 8 * time.Millisecond, TCP: 20 * time.Millisecond,
			TLS: 41 * time.Millisecond, TTFB: 240 * time.Millisecond,
			TLSVersion: tls.VersionTLS13, CipherSuite: tls.TLS_CHACHA20_POLY1305_SHA256,
			SSLExpiry: ptr(checkedAt.Add(12 * time.Hour)), CheckedAt: checkedAt,
		},
		"hostile_url": {
			URL:       "http://evil.example/\x1b[2J\x1b]0;pwned\x07\r\nDOWN\u202etxt.exe\xff",
			ErrorCode: uptime.ErrorTimeout, RTT: 30 * time.Second, CheckedAt: checkedAt,
		},
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	formats := map[string]func(*bytes.Buffer, checkreport.Report) error{
		"txt":  func(b *bytes.Buffer, r checkreport.Report) error { return checkreport.WriteText(b, r) },
		"json": func(b *bytes.Buffer, r checkreport.Report) error { return checkreport.WriteJSON(b, r) },
	}
	for name, res := range rows() {
		for ext, write := range formats {
			t.Run(name+"."+ext, func(t *testing.T) {
				t.Parallel()
				var got bytes.Buffer
				if err := write(&got, checkreport.FromResult(res)); err != nil {
					t.Fatalf("write: %v", err)
				}
				path := filepath.Join("testdata", name+"."+ext)
				if *update {
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil { //nolint:gosec // testdata is public
						t.Fatalf("update golden: %v", err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run with -update to create): %v", err)
				}
				if got.String() != string(want) {
					t.Errorf("%s differs from golden (run with -update to accept)\ngot:\n%q\nwant:\n%q", path, got.String(), want)
				}
			})
		}
	}
}

func TestTextIsTerminalSafe(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := checkreport.WriteText(&b, checkreport.FromResult(rows()["hostile_url"])); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	for i, c := range b.Bytes() {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			t.Errorf("byte %d is control character %#x", i, c)
		}
	}
	if strings.Contains(b.String(), "\u202e") || !strings.Contains(b.String(), `\x1b[2J`) {
		t.Errorf("hostile URL not escaped:\n%q", b.String())
	}
	if got := strings.Count(b.String(), "\n"); got != 19 {
		t.Errorf("%d lines, want 19: a CR/LF in a value must not add lines", got)
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"plain":          {"https://example.com/a?b=c", "https://example.com/a?b=c"},
		"non-ascii kept": {"https://bücher.example/日本", "https://bücher.example/日本"},
		"escape":         {"a\x1b[31mb", `a\x1b[31mb`},
		"cr lf tab":      {"a\r\n\tb", `a\x0d\x0a\x09b`},
		"del":            {"a\x7fb", `a\x7fb`},
		"c1 csi":         {"a\u009b2Jb", `a\x9b2Jb`},
		"bidi override":  {"a\u202eb", `a\u202eb`},
		"zero width":     {"a\u200bb", `a\u200bb`},
		"invalid utf8":   {"a\xffb", `a\xffb`},
		"empty":          {"", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := checkreport.Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFromResult(t *testing.T) {
	t.Parallel()
	checkedAt := checkedAt()
	tests := map[string]struct {
		in    uptime.Result
		check func(t *testing.T, r checkreport.Report)
	}{
		"method defaults to GET": {uptime.Result{}, func(t *testing.T, r checkreport.Report) {
			if r.Method != "GET" {
				t.Errorf("method %q, want GET", r.Method)
			}
		}},
		"no TLS": {uptime.Result{CheckedAt: checkedAt}, func(t *testing.T, r checkreport.Report) {
			if r.TLSVersion != "" || r.CipherSuite != "" || r.SSLExpiry != nil || r.SSLDaysLeft != nil {
				t.Errorf("TLS fields set without TLS: %+v", r)
			}
		}},
		"tls 1.0 name": {uptime.Result{TLSVersion: tls.VersionTLS10}, func(t *testing.T, r checkreport.Report) {
			if r.TLSVersion != "TLS 1.0" {
				t.Errorf("tls version %q, want TLS 1.0", r.TLSVersion)
			}
		}},
		"days left rounds down": {uptime.Result{CheckedAt: checkedAt, SSLExpiry: ptr(checkedAt.Add(47 * time.Hour))},
			func(t *testing.T, r checkreport.Report) {
				if r.SSLDaysLeft == nil || *r.SSLDaysLeft != 1 {
					t.Errorf("days left %v, want 1", r.SSLDaysLeft)
				}
			}},
		"expired days negative": {uptime.Result{CheckedAt: checkedAt, SSLExpiry: ptr(checkedAt.Add(-time.Hour))},
			func(t *testing.T, r checkreport.Report) {
				if r.SSLDaysLeft == nil || *r.SSLDaysLeft != -1 {
					t.Errorf("days left %v, want -1", r.SSLDaysLeft)
				}
			}},
		"status type and name": {uptime.Result{HTTPCode: 503}, func(t *testing.T, r checkreport.Report) {
			if r.StatusType != "server" || r.ErrorName != "none" {
				t.Errorf("status type %q error name %q, want server none", r.StatusType, r.ErrorName)
			}
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, checkreport.FromResult(tt.in))
		})
	}
}

func TestJSONRoundTrips(t *testing.T) {
	t.Parallel()
	for name, res := range rows() {
		want := checkreport.FromResult(res)
		want.URL = strings.ToValidUTF8(want.URL, "\uFFFD") // JSON cannot carry invalid UTF-8
		var b bytes.Buffer
		if err := checkreport.WriteJSON(&b, want); err != nil {
			t.Fatalf("%s: WriteJSON: %v", name, err)
		}
		var got checkreport.Report
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("%s: unmarshal: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip\ngot  %#v\nwant %#v", name, got, want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	rep := checkreport.FromResult(rows()["success"])
	if err := checkreport.WriteText(failWriter{}, rep); err == nil {
		t.Error("WriteText hid a write error")
	}
	if err := checkreport.WriteJSON(failWriter{}, rep); err == nil {
		t.Error("WriteJSON hid a write error")
	}
}
