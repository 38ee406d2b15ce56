package uptime

import (
	"fmt"
	"time"
)

// RedirectPolicy says what a check does when the site answers with a redirect.
type RedirectPolicy string

// Redirect policies, as Jetmon's `redirect_policy` column.
const (
	RedirectFollow RedirectPolicy = "follow" // follow up to MaxRedirects hops
	RedirectAlert  RedirectPolicy = "alert"  // follow, and record that the final URL changed
	RedirectFail   RedirectPolicy = "fail"   // the first redirect fails the check
)

// MaxRedirects is the most hops a check follows; one more is ErrorRedirect.
const MaxRedirects = 10

// ParseRedirectPolicy accepts the three policies; empty means follow.
func ParseRedirectPolicy(s string) (RedirectPolicy, error) {
	switch p := RedirectPolicy(s); p {
	case "":
		return RedirectFollow, nil
	case RedirectFollow, RedirectAlert, RedirectFail:
		return p, nil
	default:
		return "", fmt.Errorf("redirect policy %q: must be one of follow, alert, fail", s)
	}
}

// KeywordRule names which content rule failed a check.
type KeywordRule string

// Content rules.
const (
	KeywordRequired  KeywordRule = "required"
	KeywordForbidden KeywordRule = "forbidden"
)

// Limits on forbidden keywords, as Jetmon's API validation.
const (
	MaxForbiddenKeywords  = 20
	MaxKeywordLengthBytes = 500
)

// CheckSpec is everything a prober or veriflier needs to check one site.
type CheckSpec struct {
	BlogID            int64
	URL               string
	Timeout           time.Duration // zero: the checker's default (NET_COMMS_TIMEOUT)
	Keyword           string        // required in the body when non-empty
	ForbiddenKeywords []string      // none may appear in the body
	Headers           map[string]string
	RedirectPolicy    RedirectPolicy
}

// Result is the outcome of one check. Durations are zero for phases that did
// not complete (never negative).
type Result struct {
	BlogID          int64
	URL             string
	Method          string // always GET
	Success         bool
	HTTPCode        int
	ErrorCode       ErrorCode
	KeywordRule     KeywordRule // which content rule failed, when ErrorCode is ErrorKeyword
	RTT             time.Duration
	DNS             time.Duration
	TCP             time.Duration
	TLS             time.Duration
	TTFB            time.Duration
	SSLExpiry       *time.Time // leaf certificate NotAfter, when a certificate was seen
	TLSVersion      uint16     // negotiated version (tls.VersionTLS12, ...), 0 without TLS
	CipherSuite     uint16     // negotiated cipher suite, 0 without TLS
	RedirectChanged bool       // policy alert and at least one hop was followed
	FinalURL        string     // the URL judged after redirects
	CheckedAt       time.Time  // when the check started
}

// IsFailure reports whether the result counts as a failure for incident
// decisions: any unsuccessful result, or any error code other than none and
// the advisory TLS-deprecated code.
func (r Result) IsFailure() bool {
	if !r.Success {
		return true
	}
	return r.ErrorCode != ErrorNone && r.ErrorCode != ErrorTLSDeprecated
}

// StatusType is Jetmon's failure class (WPCOM `status_type`). First match wins.
func (r Result) StatusType() string {
	switch {
	case r.Success:
		return "success"
	case r.ErrorCode == ErrorSSL || r.ErrorCode == ErrorTLSExpired:
		return "https"
	case r.ErrorCode == ErrorTimeout || r.ErrorCode == ErrorBodyRead:
		return "intermittent"
	case r.ErrorCode == ErrorRedirect:
		return "redirect"
	case r.HTTPCode == 403:
		return "blocked"
	case r.HTTPCode >= 500:
		return "server"
	case r.HTTPCode >= 400:
		return "client"
	default:
		return "intermittent"
	}
}
