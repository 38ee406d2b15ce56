package email_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// update rewrites the golden files: go test ./deliverer/email -update.
var update = flag.Bool("update", false, "rewrite testdata golden files")

// at is the fixed time of every fixture.
func at() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC) }

func downNotice() uptime.Notice {
	return uptime.Notice{
		DeliveryID: 4242, EventType: "alert.opened", SiteID: 123456789, SiteURL: "https://example.com/shop",
		EventID: 777, TransitionID: 9001, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: uptime.SeveritySeemsDown, Severity: uptime.SeverityDown, State: uptime.StateDown,
		Reason: uptime.ReasonVerifierConfirmed, OccurredAt: at(), DedupKey: "jetmon-event-777",
		Votes: []uptime.Vote{
			{Region: "eu-west", NodeID: "veriflier-eu-1", HTTPCode: 503, RTT: 412 * time.Millisecond},
			{Region: "ap-south", NodeID: "veriflier-ap-1", ErrorCode: uptime.ErrorTimeout, RTT: 10 * time.Second},
			{Region: "us-east", NodeID: "veriflier-us-2", Up: true, HTTPCode: 200, RTT: 98 * time.Millisecond},
		},
	}
}

func recoveryNotice() uptime.Notice {
	return uptime.Notice{
		DeliveryID: 4243, EventType: "alert.closed", Recovery: true, SiteID: 123456789,
		SiteURL: "https://example.com/shop", EventID: 777, TransitionID: 9002, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: uptime.SeverityDown, Severity: uptime.SeverityUp, State: uptime.StateResolved,
		Reason: uptime.ReasonVerifierCleared, OccurredAt: at().Add(17 * time.Minute), DedupKey: "jetmon-event-777",
	}
}

func testNotice() uptime.Notice {
	return uptime.Notice{
		EventType: uptime.EventTest, Test: true, SiteURL: "https://test.invalid/ops-email",
		Severity: uptime.SeverityDown, SeverityBefore: uptime.SeverityDown, State: "Test", Reason: "test_send",
		OccurredAt: at(), DedupKey: "jetmon-test-0-1773500966",
	}
}

// hostileNotice has markup and a header injection attempt in its URL.
func hostileNotice() uptime.Notice {
	n := downNotice()
	n.SiteURL = "https://example.com/<script>alert(1)</script>?a=1&b=\"2\"\r\nBcc: victim@example.com"
	n.Votes = nil
	return n
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

// received is one HTTP request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver answers every request with status and body and hands each
// request it got to the returned channel.
func receiver(t *testing.T, status int, body string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{header: r.Header.Clone(), body: b}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jetmon test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
