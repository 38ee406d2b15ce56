package uptime

import "strconv"

// ErrorCode classifies why a check failed. The numbering is Jetmon's and must
// not change: WPCOM notifications, check history and telemetry all carry it.
type ErrorCode int

// Jetmon's error codes.
const (
	ErrorNone          ErrorCode = 0 // no error
	ErrorTimeout       ErrorCode = 1 // the check's deadline passed
	ErrorConnect       ErrorCode = 2 // DNS, refused, reset, other transport failure, or a bad URL
	ErrorSSL           ErrorCode = 3 // TLS handshake or certificate verification failed
	ErrorRedirect      ErrorCode = 4 // a redirect under policy "fail", or more than 10 hops
	ErrorKeyword       ErrorCode = 5 // required keyword missing or forbidden keyword present
	ErrorTLSExpired    ErrorCode = 6 // the leaf certificate is past its NotAfter
	ErrorTLSDeprecated ErrorCode = 7 // TLS 1.0/1.1 negotiated: advisory, the site is still up
	ErrorBodyRead      ErrorCode = 8 // the body was truncated or could not be read
)

// String returns the code's stable snake_case name (used as `error_name`).
func (c ErrorCode) String() string {
	switch c {
	case ErrorNone:
		return "none"
	case ErrorTimeout:
		return "timeout"
	case ErrorConnect:
		return "connect"
	case ErrorSSL:
		return "ssl"
	case ErrorRedirect:
		return "redirect"
	case ErrorKeyword:
		return "keyword"
	case ErrorTLSExpired:
		return "tls_expired"
	case ErrorTLSDeprecated:
		return "tls_deprecated"
	case ErrorBodyRead:
		return "body_read"
	default:
		return "error_" + strconv.Itoa(int(c))
	}
}
