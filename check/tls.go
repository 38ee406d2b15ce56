package check

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// errNoCertificate is the verification error of a server that sent none.
var errNoCertificate = errors.New("server sent no certificate")

// tlsPolicy verifies servers and judges negotiated TLS connections.
//
// Verification is done in VerifyConnection instead of by crypto/tls, so that
// a certificate whose only problem is expiry still completes the handshake
// and the check can report ErrorTLSExpired with the HTTP status. (Jetmon's
// expiry rule was unreachable: Go's verifier rejects an expired leaf during
// the handshake, so expired sites surfaced as ErrorSSL without an expiry.)
type tlsPolicy struct {
	now    func() time.Time
	roots  func() *x509.CertPool // nil pool: the system roots
	suites []uint16
}

func newTLSPolicy(s settings) *tlsPolicy {
	bundle := s.bundle
	return &tlsPolicy{
		now: s.now,
		// Built on first use: loading the system roots is I/O New must not do.
		roots: sync.OnceValue(func() *x509.CertPool {
			if len(bundle) == 0 {
				return nil
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			for _, cert := range bundle {
				pool.AddCert(cert)
			}
			return pool
		}),
		suites: legacyCipherSuites(),
	}
}

// legacyCipherSuites is Go's secure TLS 1.0–1.2 suites plus the RSA key
// exchange and 3DES suites that Go no longer enables by default (GODEBUG
// tlsrsakex, tls3des) but that TLS 1.0/1.1-only servers often require. A
// monitor must complete such handshakes to report ErrorTLSDeprecated instead
// of ErrorSSL. RC4 stays off. TLS 1.3 suites are not configurable.
func legacyCipherSuites() []uint16 {
	ids := []uint16{
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	}
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}

// clientConfig is the TLS configuration of one connection to host.
//
// MinVersion is set explicitly to TLS 1.0: Go clients default to TLS 1.2 as
// the minimum when MinVersion is zero, and GODEBUG=tls10server only affects
// servers, so an explicit MinVersion is the documented way to let a client
// negotiate TLS 1.0/1.1 (and so classify it as deprecated).
func (p *tlsPolicy) clientConfig(host string) *tls.Config {
	return &tls.Config{
		ServerName:   host,
		MinVersion:   tls.VersionTLS10,
		CipherSuites: p.suites,
		// Verification is not skipped: VerifyConnection does it, with the
		// same roots and host name, tolerating only an expired leaf.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			return p.verify(cs, host)
		},
	}
}

// verify checks the peer chain against the trust store and host. Errors are
// *tls.CertificateVerificationError, as crypto/tls's own verifier returns.
func (p *tlsPolicy) verify(cs tls.ConnectionState, host string) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return &tls.CertificateVerificationError{Err: errNoCertificate}
	}
	opts := x509.VerifyOptions{
		Roots:         p.roots(),
		DNSName:       host,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   p.now(),
	}
	for _, cert := range certs[1:] {
		opts.Intermediates.AddCert(cert)
	}
	_, err := certs[0].Verify(opts)
	if err == nil || onlyExpired(certs[0], opts, err) {
		return nil
	}
	return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
}

// onlyExpired reports whether expiry of the leaf is the chain's only
// problem: the leaf is past its NotAfter (not merely not yet valid) and the
// chain verifies at the instant the leaf expired.
func onlyExpired(leaf *x509.Certificate, opts x509.VerifyOptions, err error) bool {
	var invalid x509.CertificateInvalidError
	if !errors.As(err, &invalid) || invalid.Reason != x509.Expired || !opts.CurrentTime.After(leaf.NotAfter) {
		return false
	}
	opts.CurrentTime = leaf.NotAfter
	_, err = leaf.Verify(opts)
	return err == nil
}

// inspect records the negotiated TLS facts on res and returns the TLS
// verdict: ErrorTLSExpired, ErrorTLSDeprecated (advisory) or ErrorNone.
func (p *tlsPolicy) inspect(res *uptime.Result, cs *tls.ConnectionState) uptime.ErrorCode {
	if cs == nil {
		return uptime.ErrorNone
	}
	res.TLSVersion = cs.Version
	res.CipherSuite = cs.CipherSuite
	if len(cs.PeerCertificates) > 0 {
		expiry := cs.PeerCertificates[0].NotAfter
		res.SSLExpiry = &expiry
		if p.now().After(expiry) {
			return uptime.ErrorTLSExpired
		}
	}
	if cs.Version < tls.VersionTLS12 {
		return uptime.ErrorTLSDeprecated
	}
	return uptime.ErrorNone
}

// expiryFromError is the leaf NotAfter of a certificate that failed
// verification, if err carries one.
func expiryFromError(err error) *time.Time {
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) || len(verr.UnverifiedCertificates) == 0 {
		return nil
	}
	expiry := verr.UnverifiedCertificates[0].NotAfter
	return &expiry
}
