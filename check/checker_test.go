package check_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// env is what the table tests share: a CA, a DNS server resolving
// site.jetmon.test to 127.0.0.1, and a Checker trusting and using both.
type env struct {
	pki     *testPKI
	dns     *dnsServer
	checker *check.Checker
}

const testHost = "site.jetmon.test"

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{pki: newPKI(t)}
	e.dns = startDNS(t, map[string]netip.Addr{testHost: netip.MustParseAddr("127.0.0.1")})
	e.checker = newChecker(t, check.Opts{CABundle: e.pki.bundle, DNSResolver: e.dns.Addr(), Timeout: 5 * time.Second})
	return e
}

// tlsURL starts an HTTPS server with h, a leaf made from o and cfg.
func (e *env) tlsURL(t *testing.T, h http.Handler, o leafOpts, cfg *tls.Config) string {
	t.Helper()
	return newTLSServer(t, h, e.pki.leaf(t, o), cfg).URL
}

// blockUntilDone answers nothing until the client gives up.
func blockUntilDone() http.Handler {
	return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
}

// redirectChain answers /n with a redirect to /n-1 and /0 with 200.
func redirectChain() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/%d", &n); err != nil || n <= 0 {
			_, _ = io.WriteString(w, "arrived")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/%d", n-1), http.StatusFound)
	})
}

// rawResponse hijacks the connection, writes raw and closes it: for
// responses net/http would not produce (truncated bodies).
func rawResponse(raw string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = buf.WriteString(raw)
		_ = buf.Flush()
	})
}

func body(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
}

func status(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
}

func TestCheckErrorCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired := leafOpts{notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)}
	tests := map[string]struct {
		target    func(t *testing.T) string
		spec      uptime.CheckSpec // URL filled from target
		want      uptime.ErrorCode
		success   bool
		httpCode  int
		rule      uptime.KeywordRule
		sslExpiry bool
	}{
		"none: 200": {
			target: func(t *testing.T) string { return newServer(t, okHandler()).URL }, success: true, httpCode: 200,
		},
		"none: 304 is healthy": {
			target: func(t *testing.T) string { return newServer(t, status(304)).URL }, success: true, httpCode: 304,
		},
		"none: https 200 via DNS name": {
			target: func(t *testing.T) string {
				return strings.Replace(e.tlsURL(t, okHandler(), leafOpts{hosts: []string{testHost}}, nil), "127.0.0.1", testHost, 1)
			},
			success: true, httpCode: 200, sslExpiry: true,
		},
		"none: 500 fails with no error code": {
			target: func(t *testing.T) string { return newServer(t, status(500)).URL }, httpCode: 500,
		},
		"none: 403 fails with no error code": {
			target: func(t *testing.T) string { return newServer(t, status(403)).URL }, httpCode: 403,
		},
		"timeout: no response headers": {
			target: func(t *testing.T) string { return newServer(t, blockUntilDone()).URL },
			spec:   uptime.CheckSpec{Timeout: 200 * time.Millisecond}, want: uptime.ErrorTimeout,
		},
		"connect: refused": {target: refusedURL, want: uptime.ErrorConnect},
		"connect: unknown host": {
			target: func(*testing.T) string { return "http://nowhere.jetmon.test/" }, want: uptime.ErrorConnect,
		},
		"connect: invalid url": {
			target: func(*testing.T) string { return "http://[::1/" }, want: uptime.ErrorConnect,
		},
		"connect: invalid spec": {
			target: func(t *testing.T) string { return newServer(t, okHandler()).URL },
			spec:   uptime.CheckSpec{ForbiddenKeywords: []string{strings.Repeat("x", 501)}}, want: uptime.ErrorConnect,
		},
		"ssl: self-signed": {
			target: func(t *testing.T) string { return e.tlsURL(t, okHandler(), leafOpts{selfSigned: true}, nil) },
			want:   uptime.ErrorSSL, sslExpiry: true,
		},
		"ssl: wrong host": {
			target: func(t *testing.T) string {
				return e.tlsURL(t, okHandler(), leafOpts{hosts: []string{"other.example"}}, nil)
			},
			want: uptime.ErrorSSL, sslExpiry: true,
		},
		"ssl: expired and wrong host": {
			target: func(t *testing.T) string {
				o := expired
				o.hosts = []string{"other.example"}
				return e.tlsURL(t, okHandler(), o, nil)
			},
			want: uptime.ErrorSSL, sslExpiry: true,
		},
		"ssl: not yet valid": {
			target: func(t *testing.T) string {
				return e.tlsURL(t, okHandler(), leafOpts{notBefore: time.Now().Add(time.Hour), notAfter: time.Now().Add(2 * time.Hour)}, nil)
			},
			want: uptime.ErrorSSL, sslExpiry: true,
		},
		"ssl: server alert (client certificate required)": {
			target: func(t *testing.T) string {
				return e.tlsURL(t, okHandler(), leafOpts{}, &tls.Config{ClientAuth: tls.RequireAnyClientCert})
			},
			want: uptime.ErrorSSL, sslExpiry: true, // TLS 1.3: the client finished the handshake first
		},
		"ssl: https to a plain http port": {
			target: func(t *testing.T) string {
				return strings.Replace(newServer(t, okHandler()).URL, "http://", "https://", 1)
			},
			want: uptime.ErrorSSL,
		},
		"redirect: policy fail": {
			target: func(t *testing.T) string { return newServer(t, redirectChain()).URL + "/1" },
			spec:   uptime.CheckSpec{RedirectPolicy: uptime.RedirectFail}, want: uptime.ErrorRedirect, httpCode: 302,
		},
		"redirect: 11 hops": {
			target: func(t *testing.T) string { return newServer(t, redirectChain()).URL + "/11" },
			want:   uptime.ErrorRedirect, httpCode: 302,
		},
		"keyword: required missing": {
			target: func(t *testing.T) string { return newServer(t, okHandler()).URL },
			spec:   uptime.CheckSpec{Keyword: "absent"}, want: uptime.ErrorKeyword, httpCode: 200, rule: uptime.KeywordRequired,
		},
		"keyword: forbidden present": {
			target: func(t *testing.T) string { return newServer(t, okHandler()).URL },
			spec:   uptime.CheckSpec{Keyword: "hello", ForbiddenKeywords: []string{"nope", "jetmon"}},
			want:   uptime.ErrorKeyword, httpCode: 200, rule: uptime.KeywordForbidden,
		},
		"tls expired": {
			target: func(t *testing.T) string { return e.tlsURL(t, okHandler(), expired, nil) },
			want:   uptime.ErrorTLSExpired, httpCode: 200, sslExpiry: true,
		},
		"tls deprecated: TLS 1.1 only, still up": {
			target: func(t *testing.T) string {
				return e.tlsURL(t, okHandler(), leafOpts{}, tls11Only())
			},
			want: uptime.ErrorTLSDeprecated, success: true, httpCode: 200, sslExpiry: true,
		},
		"body read: shorter than Content-Length": {
			target: func(t *testing.T) string {
				return newServer(t, rawResponse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")).URL
			},
			want: uptime.ErrorBodyRead, httpCode: 200,
		},
		"body read: chunked body cut": {
			target: func(t *testing.T) string {
				return newServer(t, rawResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")).URL
			},
			want: uptime.ErrorBodyRead, httpCode: 200,
		},
		"body read: ignored on 500": {
			target: func(t *testing.T) string {
				return newServer(t, rawResponse("HTTP/1.1 500 Oops\r\nContent-Length: 100\r\n\r\nshort")).URL
			},
			httpCode: 500,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := tt.spec
			spec.URL = tt.target(t)
			res := e.checker.Check(t.Context(), spec)
			assertDurations(t, res)
			if res.ErrorCode != tt.want || res.Success != tt.success || res.HTTPCode != tt.httpCode {
				t.Errorf("got code %v success %v http %d, want code %v success %v http %d",
					res.ErrorCode, res.Success, res.HTTPCode, tt.want, tt.success, tt.httpCode)
			}
			if res.KeywordRule != tt.rule {
				t.Errorf("KeywordRule = %q, want %q", res.KeywordRule, tt.rule)
			}
			if (res.SSLExpiry != nil) != tt.sslExpiry {
				t.Errorf("SSLExpiry = %v, want set: %v", res.SSLExpiry, tt.sslExpiry)
			}
			if res.Method != http.MethodGet || res.URL != spec.URL || res.CheckedAt.IsZero() {
				t.Errorf("Method %q URL %q CheckedAt %v: want GET, %q, set", res.Method, res.URL, res.CheckedAt, spec.URL)
			}
		})
	}
}
