package checkreport

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Report is one check, flattened for people and scripts. Timings are whole
// milliseconds (Jetmon's check history is INT ms); times are UTC, to the
// second, and marshal as RFC 3339.
type Report struct {
	URL             string             `json:"url"`
	FinalURL        string             `json:"final_url"` // after redirects; empty when the check did not get that far
	Method          string             `json:"method"`
	Success         bool               `json:"success"`
	HTTPCode        int                `json:"http_code"` // 0 when no response arrived
	ErrorCode       uptime.ErrorCode   `json:"error_code"`
	ErrorName       string             `json:"error_name"`
	StatusType      string             `json:"status_type"`
	KeywordRule     uptime.KeywordRule `json:"keyword_rule"` // which content rule failed, if any
	RedirectChanged bool               `json:"redirect_changed"`
	RTTMs           int64              `json:"rtt_ms"`
	DNSMs           int64              `json:"dns_ms"`
	TCPMs           int64              `json:"tcp_ms"`
	TLSMs           int64              `json:"tls_ms"`
	TTFBMs          int64              `json:"ttfb_ms"`
	TLSVersion      string             `json:"tls_version"`  // "TLS 1.3"; empty without TLS
	CipherSuite     string             `json:"cipher_suite"` // IANA name; empty without TLS
	SSLExpiry       *time.Time         `json:"ssl_expiry"`   // leaf NotAfter; null without a certificate
	SSLDaysLeft     *int               `json:"ssl_days_left"`
	CheckedAt       time.Time          `json:"checked_at"`
}

// FromResult flattens r. SSLDaysLeft counts whole days from CheckedAt to
// the expiry, rounded down: negative once the certificate has expired.
func FromResult(r uptime.Result) Report {
	rep := Report{
		URL:             r.URL,
		FinalURL:        r.FinalURL,
		Method:          r.Method,
		Success:         r.Success,
		HTTPCode:        r.HTTPCode,
		ErrorCode:       r.ErrorCode,
		ErrorName:       r.ErrorCode.String(),
		StatusType:      r.StatusType(),
		KeywordRule:     r.KeywordRule,
		RedirectChanged: r.RedirectChanged,
		RTTMs:           ms(r.RTT),
		DNSMs:           ms(r.DNS),
		TCPMs:           ms(r.TCP),
		TLSMs:           ms(r.TLS),
		TTFBMs:          ms(r.TTFB),
		CheckedAt:       second(r.CheckedAt),
	}
	if rep.Method == "" {
		rep.Method = "GET"
	}
	if r.TLSVersion != 0 {
		rep.TLSVersion = tls.VersionName(r.TLSVersion)
	}
	if r.CipherSuite != 0 {
		rep.CipherSuite = tls.CipherSuiteName(r.CipherSuite)
	}
	if r.SSLExpiry != nil {
		exp := second(*r.SSLExpiry)
		rep.SSLExpiry = &exp
		if !r.CheckedAt.IsZero() {
			days := daysLeft(r.CheckedAt, *r.SSLExpiry)
			rep.SSLDaysLeft = &days
		}
	}
	return rep
}

func ms(d time.Duration) int64 { return max(d.Milliseconds(), 0) }

func second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// daysLeft is floor((expiry-now)/24h).
func daysLeft(now, expiry time.Time) int {
	d := expiry.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// WriteJSON writes rep as one indented JSON object and a newline. Strings
// are JSON-escaped, not sanitised: consumers get the bytes the check saw.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write report json: %w", err)
	}
	return nil
}
