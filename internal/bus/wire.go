package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// WireVersion is the "v" of every message this package writes. Decoders
// accept exactly this version; unknown fields of the same version are
// ignored, so fields may be added without a version change.
const WireVersion = 1

// Decoding errors. Every Decode* error wraps ErrMalformed; a message of
// another version also wraps ErrUnsupportedVersion.
var (
	ErrMalformed          = errors.New("malformed message")
	ErrUnsupportedVersion = errors.New("unsupported message version")
)

// maxWireDuration bounds durations on the wire so that unit conversion
// cannot overflow: about 290 years in nanoseconds.
const maxWireDuration = math.MaxInt64

// malformed builds a decode error of a message kind.
func malformed(kind, format string, args ...any) error {
	return fmt.Errorf("decode %s: %w: %s", kind, ErrMalformed, fmt.Sprintf(format, args...))
}

// unmarshal decodes data into w and checks its version (*v after decoding).
// A payload that does not fit w but names another version reports the
// version, not the field mismatch.
func unmarshal(kind string, data []byte, w any, v *int) error {
	if err := json.Unmarshal(data, w); err != nil {
		var peek struct {
			V int `json:"v"`
		}
		if json.Unmarshal(data, &peek) == nil && peek.V != 0 && peek.V != WireVersion {
			return unsupported(kind, peek.V)
		}
		return malformed(kind, "%v", err)
	}
	switch *v {
	case WireVersion:
		return nil
	case 0:
		return malformed(kind, "missing field %q", "v")
	default:
		return unsupported(kind, *v)
	}
}

func unsupported(kind string, v int) error {
	return fmt.Errorf("decode %s: %w: %w: v=%d, want %d", kind, ErrMalformed, ErrUnsupportedVersion, v, WireVersion)
}

// field checks are small helpers for decoders: each returns a malformed
// error naming the field.

func requireString(kind, field, s string) error {
	if s == "" {
		return malformed(kind, "missing field %q", field)
	}
	return nil
}

func requireNonNegative(kind, field string, n int64) error {
	if n < 0 {
		return malformed(kind, "field %q: %d < 0", field, n)
	}
	return nil
}

// duration converts a non-negative count of unit to a duration.
func duration(kind, field string, n int64, unit time.Duration) (time.Duration, error) {
	if n < 0 {
		return 0, malformed(kind, "field %q: %d < 0", field, n)
	}
	if n > maxWireDuration/int64(unit) {
		return 0, malformed(kind, "field %q: %d out of range", field, n)
	}
	return time.Duration(n) * unit, nil
}

// wireTime normalises a decoded time to UTC and rejects times that could
// not be encoded again (years outside 0-9999 after the conversion).
func wireTime(kind, field string, t time.Time) (time.Time, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, malformed(kind, "field %q: year %d out of range", field, y)
	}
	return t, nil
}

// optTime is nil for the zero time, else t in UTC.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// fromOptTime is the inverse of optTime.
func fromOptTime(kind, field string, p *time.Time) (time.Time, error) {
	if p == nil {
		return time.Time{}, nil
	}
	return wireTime(kind, field, *p)
}

// units converts d to whole units, rounding down; never negative.
func units(d, unit time.Duration) int64 { return max(int64(d/unit), 0) }
