package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// classify maps a failed request to an error code from the error's types,
// never from its text. First match wins:
//
//   - the redirect policy stopped the check: ErrorRedirect;
//   - a deadline or cancellation: ErrorTimeout;
//   - a certificate, alert or TLS record error (see isTLSError): ErrorSSL;
//   - any other failure during the TLS handshake that is not an OS-level
//     network error (e.g. a remote TLS alert, EOF mid-handshake, no common
//     version): ErrorSSL;
//   - DNS, refused, reset, unreachable and other network errors: ErrorConnect;
//   - anything else after the check's context ended: ErrorTimeout;
//   - otherwise: ErrorConnect.
func classify(ctx context.Context, err error, handshakeFailed bool) uptime.ErrorCode {
	switch {
	case errors.Is(err, errRedirect):
		return uptime.ErrorRedirect
	case isTimeout(err):
		return uptime.ErrorTimeout
	case isTLSError(err):
		return uptime.ErrorSSL
	case handshakeFailed && !isSocketError(err):
		return uptime.ErrorSSL
	case isNetError(err):
		return uptime.ErrorConnect
	case ctx.Err() != nil:
		return uptime.ErrorTimeout
	default:
		return uptime.ErrorConnect
	}
}

// isTimeout reports a deadline (context or connection) or a cancellation.
// A cancelled check did not finish in the time it was given, so it is
// reported as a timeout too.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// isTLSError reports the typed errors of crypto/tls and crypto/x509, and
// TLS alerts. crypto/tls reports an alert as a *net.OpError whose Op is
// "remote error" (sent by the peer) or "local error" (sent by us) around an
// unexported alert type, so the Op field is the only structured marker; a
// server rejecting the client after the handshake (TLS 1.3 client
// certificates) surfaces only this way.
func isTLSError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "remote error" || op.Op == "local error") {
		return true
	}
	var (
		verify    *tls.CertificateVerificationError
		alert     tls.AlertError
		record    tls.RecordHeaderError
		ech       *tls.ECHRejectionError
		invalid   x509.CertificateInvalidError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record) ||
		errors.As(err, &ech) || errors.As(err, &invalid) || errors.As(err, &authority) ||
		errors.As(err, &hostname)
}

// isSocketError reports an OS-level socket error (refused, reset,
// unreachable, ...). A remote TLS alert arrives as a *net.OpError too, but
// wraps no syscall error, so it is not one of these.
func isSocketError(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno)
}

// isNetError reports DNS failures and network operation errors.
func isNetError(err error) bool {
	var (
		dns  *net.DNSError
		op   *net.OpError
		addr *net.AddrError
	)
	return errors.As(err, &dns) || errors.As(err, &op) || errors.As(err, &addr) || isSocketError(err)
}
