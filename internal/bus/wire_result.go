package bus

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// checkFields are the fields of one check outcome shared by a stream result
// and an on-demand check reply. Names equal internal/checkreport's where
// they overlap; timings are whole milliseconds.
type checkFields struct {
	URL             string     `json:"url"`
	FinalURL        string     `json:"final_url"`
	Method          string     `json:"method"`
	Success         *bool      `json:"success"`
	HTTPCode        int        `json:"http_code"`
	ErrorCode       int        `json:"error_code"`
	ErrorName       string     `json:"error_name"`  // derived from error_code; ignored when decoding
	StatusType      string     `json:"status_type"` // derived; ignored when decoding
	KeywordRule     string     `json:"keyword_rule"`
	RedirectChanged bool       `json:"redirect_changed"`
	RTTMs           int64      `json:"rtt_ms"`
	DNSMs           int64      `json:"dns_ms"`
	TCPMs           int64      `json:"tcp_ms"`
	TLSMs           int64      `json:"tls_ms"`
	TTFBMs          int64      `json:"ttfb_ms"`
	TLSVersion      string     `json:"tls_version"` // name of tls_version_code; ignored when decoding
	TLSVersionCode  uint16     `json:"tls_version_code"`
	CipherSuite     string     `json:"cipher_suite"` // name of cipher_suite_id; ignored when decoding
	CipherSuiteID   uint16     `json:"cipher_suite_id"`
	SSLExpiry       *time.Time `json:"ssl_expiry"`
	CheckedAt       time.Time  `json:"checked_at"`
}

// resultWire is a JETMON_RESULTS message.
type resultWire struct {
	V      int    `json:"v"`
	BlogID int64  `json:"blog_id"`
	Bucket *int   `json:"bucket"`
	Region string `json:"region"`
	NodeID string `json:"node_id"`
	checkFields
	DueAt    time.Time `json:"due_at"`
	Failures int       `json:"failures"`
}

const kindResult = "result"

// EncodeResult encodes r as a JETMON_RESULTS message. Timings are truncated
// to whole milliseconds and ssl_expiry to whole seconds; an empty method is
// written as GET.
func EncodeResult(r uptime.ProbeResult) ([]byte, error) {
	w := resultWire{
		V:           WireVersion,
		BlogID:      r.BlogID,
		Bucket:      &r.Bucket,
		Region:      r.Region,
		NodeID:      r.NodeID,
		checkFields: encodeCheck(r.Result),
		DueAt:       r.DueAt.UTC(),
		Failures:    r.Failures,
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode result of %d: %w", r.BlogID, err)
	}
	return b, nil
}

// DecodeResult decodes a JETMON_RESULTS message. Required: v, blog_id
// (> 0), bucket (>= 0), region, node_id, url, success and checked_at;
// numbers must not be negative.
func DecodeResult(data []byte) (uptime.ProbeResult, error) {
	var w resultWire
	if err := unmarshal(kindResult, data, &w, &w.V); err != nil {
		return uptime.ProbeResult{}, err
	}
	if w.BlogID <= 0 {
		return uptime.ProbeResult{}, malformed(kindResult, "field %q: missing or <= 0", "blog_id")
	}
	if w.Bucket == nil || *w.Bucket < 0 {
		return uptime.ProbeResult{}, malformed(kindResult, "field %q: missing or < 0", "bucket")
	}
	if err := requireString(kindResult, "region", w.Region); err != nil {
		return uptime.ProbeResult{}, err
	}
	if err := requireString(kindResult, "node_id", w.NodeID); err != nil {
		return uptime.ProbeResult{}, err
	}
	if err := requireNonNegative(kindResult, "failures", int64(w.Failures)); err != nil {
		return uptime.ProbeResult{}, err
	}
	res, err := decodeCheck(kindResult, w.BlogID, w.checkFields)
	if err != nil {
		return uptime.ProbeResult{}, err
	}
	due, err := wireTime(kindResult, "due_at", w.DueAt)
	if err != nil {
		return uptime.ProbeResult{}, err
	}
	return uptime.ProbeResult{
		Result: res, Bucket: *w.Bucket, Region: w.Region, NodeID: w.NodeID, DueAt: due, Failures: w.Failures,
	}, nil
}

// encodeCheck flattens a check outcome.
func encodeCheck(r uptime.Result) checkFields {
	f := checkFields{
		URL:             r.URL,
		FinalURL:        r.FinalURL,
		Method:          r.Method,
		Success:         &r.Success,
		HTTPCode:        r.HTTPCode,
		ErrorCode:       int(r.ErrorCode),
		ErrorName:       r.ErrorCode.String(),
		StatusType:      r.StatusType(),
		KeywordRule:     string(r.KeywordRule),
		RedirectChanged: r.RedirectChanged,
		RTTMs:           units(r.RTT, time.Millisecond),
		DNSMs:           units(r.DNS, time.Millisecond),
		TCPMs:           units(r.TCP, time.Millisecond),
		TLSMs:           units(r.TLS, time.Millisecond),
		TTFBMs:          units(r.TTFB, time.Millisecond),
		TLSVersionCode:  r.TLSVersion,
		CipherSuiteID:   r.CipherSuite,
		CheckedAt:       r.CheckedAt.UTC(),
	}
	if f.Method == "" {
		f.Method = "GET"
	}
	if r.TLSVersion != 0 {
		f.TLSVersion = tls.VersionName(r.TLSVersion)
	}
	if r.CipherSuite != 0 {
		f.CipherSuite = tls.CipherSuiteName(r.CipherSuite)
	}
	if r.SSLExpiry != nil {
		exp := r.SSLExpiry.UTC().Truncate(time.Second)
		f.SSLExpiry = &exp
	}
	return f
}

// decodeCheck validates and converts a check outcome. Required: url,
// success and checked_at. An empty method decodes as GET.
func decodeCheck(kind string, blogID int64, f checkFields) (uptime.Result, error) {
	if err := requireString(kind, "url", f.URL); err != nil {
		return uptime.Result{}, err
	}
	if f.Success == nil {
		return uptime.Result{}, malformed(kind, "missing field %q", "success")
	}
	if f.CheckedAt.IsZero() {
		return uptime.Result{}, malformed(kind, "missing field %q", "checked_at")
	}
	if f.HTTPCode < 0 || f.HTTPCode > 999 {
		return uptime.Result{}, malformed(kind, "field %q: %d out of range 0-999", "http_code", f.HTTPCode)
	}
	if err := requireNonNegative(kind, "error_code", int64(f.ErrorCode)); err != nil {
		return uptime.Result{}, err
	}
	r := uptime.Result{
		BlogID: blogID, URL: f.URL, FinalURL: f.FinalURL, Method: f.Method, Success: *f.Success,
		HTTPCode: f.HTTPCode, ErrorCode: uptime.ErrorCode(f.ErrorCode), KeywordRule: uptime.KeywordRule(f.KeywordRule),
		RedirectChanged: f.RedirectChanged, TLSVersion: f.TLSVersionCode, CipherSuite: f.CipherSuiteID,
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	if err := decodeTimings(kind, f, &r); err != nil {
		return uptime.Result{}, err
	}
	var err error
	if r.CheckedAt, err = wireTime(kind, "checked_at", f.CheckedAt); err != nil {
		return uptime.Result{}, err
	}
	if f.SSLExpiry != nil {
		exp, err := wireTime(kind, "ssl_expiry", *f.SSLExpiry)
		if err != nil {
			return uptime.Result{}, err
		}
		r.SSLExpiry = &exp
	}
	return r, nil
}

// decodeTimings sets r's phase durations from the millisecond fields.
func decodeTimings(kind string, f checkFields, r *uptime.Result) error {
	return decodeMillis(kind,
		millis{"rtt_ms", f.RTTMs, &r.RTT}, millis{"dns_ms", f.DNSMs, &r.DNS}, millis{"tcp_ms", f.TCPMs, &r.TCP},
		millis{"tls_ms", f.TLSMs, &r.TLS}, millis{"ttfb_ms", f.TTFBMs, &r.TTFB})
}

// millis is one whole-millisecond wire field and the duration it sets.
type millis struct {
	field string
	ms    int64
	dst   *time.Duration
}

// decodeMillis converts every field, or names the first invalid one.
func decodeMillis(kind string, fields ...millis) error {
	for _, f := range fields {
		d, err := duration(kind, f.field, f.ms, time.Millisecond)
		if err != nil {
			return err
		}
		*f.dst = d
	}
	return nil
}
