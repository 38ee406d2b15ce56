package checkreport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// none stands for an empty value in text output.
const none = "-"

type line struct{ key, value string }

// WriteText writes rep as aligned "key  value" lines: the outcome (UP or
// DOWN), the error code, name and a plain-words reason, the status type,
// HTTP code, every phase timing, and the TLS version and certificate expiry
// with the days left. Every value is sanitised: control and format
// characters (ESC, CR, bidi overrides, ...) and invalid UTF-8 are printed
// as Go escapes (\x1b, \u202e), so a hostile URL cannot drive the terminal.
func WriteText(w io.Writer, rep Report) error {
	lines := textLines(rep)
	width := 0
	for _, l := range lines {
		width = max(width, len(l.key))
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s  %s\n", width, l.key, Sanitize(l.value))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func textLines(rep Report) []line {
	outcome := "DOWN"
	if rep.Success {
		outcome = "UP"
	}
	return []line{
		{"outcome", outcome},
		{"url", orNone(rep.URL)},
		{"final url", orNone(rep.FinalURL)},
		{"method", rep.Method},
		{"checked at", rep.CheckedAt.Format(time.RFC3339)},
		{"error", strconv.Itoa(int(rep.ErrorCode)) + " " + rep.ErrorName},
		{"reason", reason(rep.ErrorCode, rep.KeywordRule)},
		{"status type", rep.StatusType},
		{"http code", httpCode(rep.HTTPCode)},
		{"keyword rule", orNone(string(rep.KeywordRule))},
		{"redirect changed", yesNo(rep.RedirectChanged)},
		{"rtt", msText(rep.RTTMs)},
		{"dns", msText(rep.DNSMs)},
		{"tcp connect", msText(rep.TCPMs)},
		{"tls handshake", msText(rep.TLSMs)},
		{"ttfb", msText(rep.TTFBMs)},
		{"tls version", orNone(rep.TLSVersion)},
		{"cipher suite", orNone(rep.CipherSuite)},
		{"ssl expiry", expiry(rep)},
	}
}

// reason says in plain words what the error code means for the site.
func reason(c uptime.ErrorCode, rule uptime.KeywordRule) string {
	switch c {
	case uptime.ErrorNone:
		return "the site answered as expected"
	case uptime.ErrorTimeout:
		return "no complete answer before the check's timeout"
	case uptime.ErrorConnect:
		return "could not connect: DNS failure, connection refused or reset, or a bad URL"
	case uptime.ErrorSSL:
		return "the TLS handshake or certificate verification failed"
	case uptime.ErrorRedirect:
		return "a redirect under policy \"fail\", or more than 10 redirects"
	case uptime.ErrorKeyword:
		if rule == uptime.KeywordForbidden {
			return "a forbidden keyword is in the page"
		}
		return "the required keyword is missing from the page"
	case uptime.ErrorTLSExpired:
		return "the site's certificate has expired"
	case uptime.ErrorTLSDeprecated:
		return "TLS 1.0/1.1 negotiated: advisory, the site is up"
	case uptime.ErrorBodyRead:
		return "the response body was truncated or could not be read"
	default:
		return "unknown error code"
	}
}

func httpCode(code int) string {
	if code == 0 {
		return none + " (no response)"
	}
	return strconv.Itoa(code)
}

func msText(v int64) string { return strconv.FormatInt(v, 10) + " ms" }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// expiry is the certificate's NotAfter with the whole days left at
// CheckedAt, or the whole days since it expired.
func expiry(rep Report) string {
	if rep.SSLExpiry == nil {
		return none
	}
	s := rep.SSLExpiry.Format(time.RFC3339)
	if rep.CheckedAt.IsZero() {
		return s
	}
	left := rep.SSLExpiry.Sub(rep.CheckedAt)
	if left < 0 {
		return s + " (expired " + days(-left) + " ago)"
	}
	return s + " (" + days(left) + " left)"
}

// days is d in whole days, in words.
func days(d time.Duration) string {
	switch n := int(d / (24 * time.Hour)); n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	default:
		return strconv.Itoa(n) + " days"
	}
}

// Sanitize makes s safe to print on a terminal: control characters (C0,
// DEL, C1) and Unicode format characters (bidi overrides, zero-width
// characters) become Go escapes such as \x1b or \u202e, and invalid UTF-8
// bytes become \xNN. Printable text, including non-ASCII, is unchanged.
func Sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
