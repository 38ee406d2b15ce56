package testsite

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// sniSuffix selects a variant on the shared TLS listener: "<variant>.tls.test".
const sniSuffix = ".tls.test"

// wrongHostName is the only name in the wrong-host certificate.
const wrongHostName = "wrong-host.invalid"

// certSet is the CA and one server tls.Config per variant, made once by New.
type certSet struct {
	caPEM   []byte
	caPool  *x509.CertPool
	configs map[TLSVariant]*tls.Config
}

// leafSpec describes one leaf certificate.
type leafSpec struct {
	dnsNames  []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
	selfSign  bool
}

// newCertSet generates an ECDSA P-256 CA and the variant certificates. ips
// are extra IP SANs of the CA-signed certificates (besides loopback).
func newCertSet(now time.Time, ips []net.IP) (*certSet, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Jetmon Mesh testsite CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate leaf key: %w", err)
	}
	cs := &certSet{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		caPool:  x509.NewCertPool(),
		configs: make(map[TLSVariant]*tls.Config),
	}
	cs.caPool.AddCert(ca)
	good := leafSpec{
		dnsNames:  []string{"localhost", "*.test", "*" + sniSuffix},
		ips:       append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, ips...),
		notBefore: now.Add(-time.Hour),
		notAfter:  now.AddDate(0, 3, 0),
	}
	specs := map[TLSVariant]leafSpec{TLSValid: good, TLS11: good}
	expired := good
	expired.notBefore, expired.notAfter = now.AddDate(0, 0, -30), now.AddDate(0, 0, -1)
	specs[TLSExpired] = expired
	soon := good
	soon.notAfter = now.Add(ExpiringSoonAfter)
	specs[TLSExpiringSoon] = soon
	self := good
	self.selfSign = true
	specs[TLSSelfSigned] = self
	specs[TLSWrongHost] = leafSpec{dnsNames: []string{wrongHostName}, notBefore: good.notBefore, notAfter: good.notAfter}
	for i, v := range TLSVariants() {
		cert, err := makeLeaf(int64(i+2), specs[v], leafKey, ca, caKey)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", v, err)
		}
		cs.configs[v] = serverConfig(v, cert)
	}
	return cs, nil
}

func makeLeaf(serial int64, s leafSpec, key *ecdsa.PrivateKey, ca *x509.Certificate, caKey crypto.Signer) (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: s.dnsNames[0]},
		DNSNames:     s.dnsNames,
		IPAddresses:  s.ips,
		NotBefore:    s.notBefore,
		NotAfter:     s.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := ca, caKey
	if s.selfSign {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// serverConfig is HTTP/1.1 only, so that behaviours can hijack connections.
func serverConfig(v TLSVariant, cert tls.Certificate) *tls.Config {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
	if v == TLS11 {
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	}
	return cfg
}

// sniConfig picks the variant from the client's SNI, "<variant>.tls.test";
// any other name, or none, gets the valid variant.
func (cs *certSet) sniConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS10,
		NextProtos: []string{"http/1.1"},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			return cs.configs[variantFromSNI(hello.ServerName)], nil
		},
	}
}

func variantFromSNI(name string) TLSVariant {
	prefix, ok := strings.CutSuffix(strings.ToLower(name), sniSuffix)
	if !ok {
		return TLSValid
	}
	for _, v := range TLSVariants() {
		if string(v) == prefix {
			return v
		}
	}
	return TLSValid
}
