package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// downNotice is transporttest.DownNotice with three veriflier votes.
func downNotice() uptime.Notice {
	n := transporttest.DownNotice()
	n.Votes = []uptime.Vote{
		{Region: "eu-west", NodeID: "veriflier-eu-1", HTTPCode: 503, RTT: 412 * time.Millisecond},
		{Region: "ap-south", NodeID: "veriflier-ap-1", ErrorCode: uptime.ErrorTimeout, RTT: 10 * time.Second},
		{Region: "us-east", NodeID: "veriflier-us-2", Up: true, HTTPCode: 200, RTT: 98 * time.Millisecond},
	}
	return n
}

// hostileNotice has markup and a header injection attempt in its URL.
func hostileNotice() uptime.Notice {
	n := transporttest.DownNotice()
	n.SiteURL = "https://example.com/<script>alert(1)</script>?a=1&b=\"2\"\r\nBcc: victim@example.com"
	return n
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
