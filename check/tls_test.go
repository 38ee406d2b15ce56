package check_test

import (
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestCheckTLS(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	valid := pki.leaf(t, leafOpts{})
	expired := pki.leaf(t, leafOpts{notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	tests := map[string]struct {
		cert       tls.Certificate
		server     *tls.Config
		opts       check.Opts // CABundle is set unless noBundle
		noBundle   bool
		handler    http.Handler  // nil: okHandler
		timeout    time.Duration // spec timeout
		want       uptime.ErrorCode
		success    bool
		version    uint16
		suite      uint16 // 0: any non-zero suite
		wantExpiry bool
	}{
		"valid: expiry, version and suite reported": {
			cert: valid, success: true, version: tls.VersionTLS13, wantExpiry: true,
		},
		"valid TLS 1.2": {
			cert: valid, server: &tls.Config{MaxVersion: tls.VersionTLS12}, success: true,
			version: tls.VersionTLS12, wantExpiry: true,
		},
		"expired leaf is ErrorTLSExpired after a completed handshake": {
			cert: expired, want: uptime.ErrorTLSExpired, version: tls.VersionTLS13, wantExpiry: true,
		},
		"valid leaf judged by the injected clock after NotAfter": {
			cert: valid, opts: check.Opts{Now: func() time.Time { return valid.Leaf.NotAfter.Add(time.Second) }},
			want: uptime.ErrorTLSExpired, version: tls.VersionTLS13, wantExpiry: true,
		},
		"expired leaf judged by the injected clock before NotAfter": {
			cert: expired, opts: check.Opts{Now: func() time.Time { return expired.Leaf.NotAfter.Add(-time.Minute) }},
			success: true, version: tls.VersionTLS13, wantExpiry: true,
		},
		"unknown authority without the CA bundle": {
			cert: valid, noBundle: true, want: uptime.ErrorSSL, wantExpiry: true,
		},
		"TLS 1.1 is deprecated but up": {
			cert: valid, server: tls11Only(), want: uptime.ErrorTLSDeprecated, success: true,
			version: tls.VersionTLS11, wantExpiry: true,
		},
		"TLS 1.0 with only RSA key exchange is deprecated but up": {
			cert: pki.leaf(t, leafOpts{rsa: true}),
			server: &tls.Config{
				MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10,
				CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA},
			},
			want: uptime.ErrorTLSDeprecated, success: true, version: tls.VersionTLS10,
			suite: tls.TLS_RSA_WITH_AES_128_CBC_SHA, wantExpiry: true,
		},
		"timeout after the handshake still reports the certificate": {
			cert: valid, handler: blockUntilDone(), timeout: 200 * time.Millisecond,
			want: uptime.ErrorTimeout, version: tls.VersionTLS13, wantExpiry: true,
		},
		"expired beats deprecated": {
			cert: expired, server: tls11Only(), want: uptime.ErrorTLSExpired, version: tls.VersionTLS11, wantExpiry: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if !tt.noBundle {
				opts.CABundle = pki.bundle
			}
			h := tt.handler
			if h == nil {
				h = okHandler()
			}
			url := newTLSServer(t, h, tt.cert, tt.server).URL
			res := newChecker(t, opts).Check(t.Context(), uptime.CheckSpec{URL: url, Timeout: tt.timeout})
			assertDurations(t, res)
			if res.ErrorCode != tt.want || res.Success != tt.success || res.TLSVersion != tt.version {
				t.Errorf("got code %v success %v version %#x, want %v %v %#x",
					res.ErrorCode, res.Success, res.TLSVersion, tt.want, tt.success, tt.version)
			}
			switch {
			case tt.version != 0 && tt.suite == 0 && res.CipherSuite == 0:
				t.Errorf("CipherSuite = 0, want the negotiated suite")
			case tt.suite != 0 && res.CipherSuite != tt.suite:
				t.Errorf("CipherSuite = %#x, want %#x", res.CipherSuite, tt.suite)
			}
			if !tt.wantExpiry {
				return
			}
			if res.SSLExpiry == nil || !res.SSLExpiry.Equal(tt.cert.Leaf.NotAfter) {
				t.Errorf("SSLExpiry = %v, want %v", res.SSLExpiry, tt.cert.Leaf.NotAfter)
			}
		})
	}
}
