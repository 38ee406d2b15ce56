package check_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// testPKI is a private CA whose certificate is written to a PEM bundle file.
type testPKI struct {
	ca     *x509.Certificate
	key    *ecdsa.PrivateKey
	bundle string // path of the CA's PEM file
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "jetmon test CA"},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testPKI{ca: ca, key: key, bundle: bundle}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// leafOpts describes a server certificate. Zero values mean: valid now, for
// 127.0.0.1 and localhost, issued by the test CA.
type leafOpts struct {
	hosts      []string
	notBefore  time.Time
	notAfter   time.Time
	selfSigned bool
	rsa        bool // an RSA key (for RSA key exchange suites) instead of ECDSA
}

func (p *testPKI) leaf(t *testing.T, o leafOpts) tls.Certificate {
	t.Helper()
	if o.hosts == nil {
		o.hosts = []string{"127.0.0.1", "localhost"}
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: o.hosts[0]},
		NotBefore:    o.notBefore,
		NotAfter:     o.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range o.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	var key crypto.Signer = newKey(t)
	if o.rsa {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key = k
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	var parent, signer any = p.ca, p.key
	if o.selfSigned {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.(*x509.Certificate), key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// quietLog discards a test server's log (TLS handshake errors are expected).
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// newServer starts a plain HTTP server closed at the end of the test;
// configure, if given, adjusts it before it starts.
func newServer(t *testing.T, h http.Handler, configure ...func(*http.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = quietLog()
	for _, f := range configure {
		f(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// benchServer is newServer for benchmarks.
func benchServer(b *testing.B, h http.Handler) *httptest.Server {
	b.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = quietLog()
	srv.Start()
	b.Cleanup(srv.Close)
	return srv
}

// newTLSServer starts an HTTPS server with cfg (nil: TLS defaults) and cert.
func newTLSServer(t *testing.T, h http.Handler, cert tls.Certificate, cfg *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = quietLog()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.Certificates = []tls.Certificate{cert}
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// newChecker builds a Checker trusting the test CA, failing the test on error.
func newChecker(t testing.TB, o check.Opts) *check.Checker {
	t.Helper()
	c, err := check.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// okHandler answers 200 with a small body.
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<html>hello jetmon</html>")
	})
}

// refusedURL is an http URL of a local port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr + "/"
}

// assertDurations fails the test if any duration of res is negative.
func assertDurations(t *testing.T, res uptime.Result) {
	t.Helper()
	for name, d := range map[string]time.Duration{
		"RTT": res.RTT, "DNS": res.DNS, "TCP": res.TCP, "TLS": res.TLS, "TTFB": res.TTFB,
	} {
		if d < 0 {
			t.Errorf("%s = %v, want >= 0", name, d)
		}
	}
}

// tls11Only is a server config that speaks TLS 1.0 and 1.1 only. Go servers,
// like clients, refuse TLS < 1.2 unless MinVersion is set explicitly.
func tls11Only() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
}
