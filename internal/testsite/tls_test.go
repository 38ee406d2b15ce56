package testsite_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

func TestTLSVariants(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{TLSAddr: "127.0.0.1:0"})
	pool := f.CAPool()
	tests := map[testsite.TLSVariant]struct {
		min   uint16 // client MinVersion; 0 is Go's default (TLS 1.2)
		check func(t *testing.T, st tls.ConnectionState, err error)
	}{
		testsite.TLSValid: {check: func(t *testing.T, st tls.ConnectionState, err error) {
			if err != nil || st.Version < tls.VersionTLS12 {
				t.Errorf("got %v, version %x; want a verified TLS >= 1.2 handshake", err, st.Version)
			}
		}},
		testsite.TLSExpired: {check: func(t *testing.T, _ tls.ConnectionState, err error) {
			var invalid x509.CertificateInvalidError
			if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
				t.Errorf("got %v, want an x509 expired error", err)
			}
		}},
		testsite.TLSSelfSigned: {check: func(t *testing.T, _ tls.ConnectionState, err error) {
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Errorf("got %v, want an unknown authority error", err)
			}
		}},
		testsite.TLSWrongHost: {check: func(t *testing.T, _ tls.ConnectionState, err error) {
			var host x509.HostnameError
			if !errors.As(err, &host) {
				t.Errorf("got %v, want a hostname error", err)
			}
		}},
		testsite.TLSExpiringSoon: {check: func(t *testing.T, st tls.ConnectionState, err error) {
			if err != nil || len(st.PeerCertificates) == 0 {
				t.Fatalf("got %v; want a verified handshake", err)
			}
			until := time.Until(st.PeerCertificates[0].NotAfter)
			if until <= 5*24*time.Hour || until > testsite.ExpiringSoonAfter {
				t.Errorf("certificate expires in %v, want between 5 days and %v", until, testsite.ExpiringSoonAfter)
			}
		}},
		testsite.TLS11: {min: tls.VersionTLS10, check: func(t *testing.T, st tls.ConnectionState, err error) {
			if err != nil || st.Version != tls.VersionTLS11 {
				t.Errorf("got %v, version %x; want TLS 1.1 negotiated", err, st.Version)
			}
		}},
	}
	if len(tests) != len(testsite.TLSVariants()) {
		t.Errorf("%d variants tested, want all %d", len(tests), len(testsite.TLSVariants()))
	}
	for v, tt := range tests {
		t.Run(string(v)+"/own port", func(t *testing.T) {
			t.Parallel()
			st, err := handshake(t, hostOf(t, f.TLSURL("any", v)), "", pool, tt.min)
			tt.check(t, st, err)
		})
		t.Run(string(v)+"/sni", func(t *testing.T) {
			t.Parallel()
			st, err := handshake(t, f.TLSAddr(), string(v)+".tls.test", pool, tt.min)
			tt.check(t, st, err)
		})
	}
}

func TestTLS11RefusedByDefaultClient(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{TLSAddr: "127.0.0.1:0"})
	if _, err := handshake(t, f.TLSAddr(), "tls11.tls.test", f.CAPool(), 0); err == nil {
		t.Error("a TLS 1.2+ client completed a handshake with the tls11 variant")
	}
}

func TestBehavioursOverTLS(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{TLSAddr: "127.0.0.1:0"})
	mustSet(t, f, "secure", testsite.Behaviour{Kind: testsite.KindStatus, Status: 503})
	c := client(5*time.Second, nil, &tls.Config{RootCAs: f.CAPool(), MinVersion: tls.VersionTLS12})
	r := do(t, c, "GET", f.TLSURL("secure", testsite.TLSValid), "")
	if r.code != 503 || r.header.Get("X-Testsite-Site") != "secure" {
		t.Errorf("got %d %v (%v), want 503 from secure", r.code, r.header, r.err)
	}
	mustSet(t, f, "secure", testsite.Behaviour{Kind: testsite.KindPartial})
	if r := do(t, c, "GET", f.TLSURL("secure", testsite.TLSValid), ""); r.code != 200 || r.bodyErr == nil {
		t.Errorf("partial over TLS: got %d, body error %v; want 200 and a body error", r.code, r.bodyErr)
	}
}

func TestCAFileWritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/nested"
	f := start(t, testsite.Opts{CADir: dir})
	data, err := os.ReadFile(f.CAFile())
	if err != nil {
		t.Fatalf("read CA file %q: %v", f.CAFile(), err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || string(data) != string(f.CAPEM()) {
		t.Fatalf("CA file holds %q, want the fleet's CA PEM", data)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Errorf("CA certificate: %v, IsCA %v", err, ca != nil && ca.IsCA)
	}
}

func handshake(t *testing.T, addr, serverName string, pool *x509.CertPool, minVersion uint16) (tls.ConnectionState, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{
		RootCAs: pool, ServerName: serverName, MinVersion: minVersion, //nolint:gosec // the TLS 1.1 variant is under test
	})
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState(), nil
}
