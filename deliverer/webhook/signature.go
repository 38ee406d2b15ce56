package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// DefaultTolerance is how far a signature's timestamp may be from now when
// Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Verify's errors; each is wrapped with detail.
var (
	// ErrSignatureMalformed: the header has no usable t= entry.
	ErrSignatureMalformed = errors.New("webhook signature: malformed header")
	// ErrSignatureMismatch: no v1= entry matches any of the secrets.
	ErrSignatureMismatch = errors.New("webhook signature: no v1 signature matches")
	// ErrSignatureExpired: t= is further from now than the tolerance.
	ErrSignatureExpired = errors.New("webhook signature: timestamp outside tolerance")
)

// Sign returns the v1 signature of body sent at t: the lower-case hex
// HMAC-SHA256, keyed with secret as is (with its "whsec_" prefix), of
// "<t in unix seconds>.<body>".
func Sign(secret string, t time.Time, body []byte) string {
	return hex.EncodeToString(mac(secret, t, body))
}

// mac is the raw HMAC-SHA256 of "<t>.<body>" keyed with secret.
func mac(secret string, t time.Time, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(strconv.FormatInt(t.Unix(), 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// signatureHeader is the X-Jetmon-Signature value: t, then a v1 entry for
// the current secret and, during a rotation's grace window, one for the
// previous secret.
func signatureHeader(hook uptime.Webhook, body []byte, now time.Time) string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	b.WriteString(",v1=")
	b.WriteString(Sign(hook.Secret, now, body))
	if hook.PreviousSecret != "" && now.Before(hook.PreviousSecretExpiresAt) {
		b.WriteString(",v1=")
		b.WriteString(Sign(hook.PreviousSecret, now, body))
	}
	return b.String()
}

// Verify checks an X-Jetmon-Signature header against the raw request body:
// it succeeds when any v1= entry equals Sign(secret, t, body) for any of the
// secrets (compared in constant time) and t is within tolerance of now, in
// either direction. A tolerance of zero or less means DefaultTolerance.
// Entries are "key=value" separated by commas; unknown keys (a future v2=)
// are ignored, and so are empty secrets. Pass the bytes as received: any
// re-encoding of the JSON breaks the signature.
func Verify(header string, body []byte, secrets []string, tolerance time.Duration, now time.Time) error {
	t, sigs, err := parseHeader(header)
	if err != nil {
		return err
	}
	if !anyMatch(t, body, sigs, secrets) {
		return fmt.Errorf("%w (%d v1 entries, %d secrets)", ErrSignatureMismatch, len(sigs), len(secrets))
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if age := now.Sub(t); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: t=%d is %v from now, tolerance %v", ErrSignatureExpired, t.Unix(), age, tolerance)
	}
	return nil
}

// parseHeader returns the header's timestamp and its decodable v1 entries.
func parseHeader(header string) (time.Time, [][]byte, error) {
	var (
		t     time.Time
		haveT bool
		sigs  [][]byte
	)
	for entry := range strings.SplitSeq(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(entry), "=")
		switch key {
		case "t":
			secs, err := strconv.ParseInt(value, 10, 64)
			if err != nil || haveT {
				return time.Time{}, nil, fmt.Errorf("%w: t=%q", ErrSignatureMalformed, value)
			}
			t, haveT = time.Unix(secs, 0), true
		case "v1":
			if sig, err := hex.DecodeString(value); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	if !haveT {
		return time.Time{}, nil, fmt.Errorf("%w: no t= entry", ErrSignatureMalformed)
	}
	return t, sigs, nil
}

// anyMatch reports whether a signature matches a non-empty secret. Every
// pair is compared, so the time taken does not depend on which matched.
func anyMatch(t time.Time, body []byte, sigs [][]byte, secrets []string) bool {
	matched := false
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		want := mac(secret, t, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				matched = true
			}
		}
	}
	return matched
}
