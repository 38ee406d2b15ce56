package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// VerifyRequest asks one veriflier of a region to check a site
// (VerifySubject). RequestID and Epoch only trace the request: the reply
// travels on a reply subject of its own.
type VerifyRequest struct {
	RequestID string // unique per Verifier.Verify call
	Epoch     uint64 // the asking coordinator's leader epoch; 0 when unknown
	Spec      uptime.CheckSpec
}

// verifyRequestWire is a vote request: the fields of an on-demand check
// request, plus its trace fields.
type verifyRequestWire struct {
	checkRequestWire
	RequestID string `json:"request_id"`
	Epoch     uint64 `json:"epoch"`
}

// voteFields are one vote's fields, shared by a vote reply and the votes of
// a transition message; timings are whole milliseconds.
type voteFields struct {
	Region    string    `json:"region"`
	NodeID    string    `json:"node_id"`
	Up        *bool     `json:"up"`
	HTTPCode  int       `json:"http_code"`
	ErrorCode int       `json:"error_code"`
	ErrorName string    `json:"error_name"` // derived from error_code; ignored when decoding
	RTTMs     int64     `json:"rtt_ms"`
	DNSMs     int64     `json:"dns_ms"`
	TCPMs     int64     `json:"tcp_ms"`
	TLSMs     int64     `json:"tls_ms"`
	TTFBMs    int64     `json:"ttfb_ms"`
	CheckedAt time.Time `json:"checked_at"`
}

// verifyReplyWire is a vote.
type verifyReplyWire struct {
	V int `json:"v"`
	voteFields
}

const (
	kindVerifyRequest = "verify request"
	kindVerifyReply   = "verify reply"
)

// EncodeVerifyRequest encodes a vote request. The timeout is truncated to
// whole seconds; an empty redirect policy is written as "follow".
func EncodeVerifyRequest(r VerifyRequest) ([]byte, error) {
	b, err := json.Marshal(verifyRequestWire{
		checkRequestWire: checkRequestOf(r.Spec), RequestID: r.RequestID, Epoch: r.Epoch,
	})
	if err != nil {
		return nil, fmt.Errorf("encode verify request: %w", err)
	}
	return b, nil
}

// DecodeVerifyRequest decodes a vote request. Required: v, blog_id (> 0),
// url and request_id.
func DecodeVerifyRequest(data []byte) (VerifyRequest, error) {
	var w verifyRequestWire
	if err := unmarshal(kindVerifyRequest, data, &w, &w.V); err != nil {
		return VerifyRequest{}, err
	}
	if w.BlogID <= 0 {
		return VerifyRequest{}, malformed(kindVerifyRequest, "field %q: missing or <= 0", "blog_id")
	}
	if err := requireString(kindVerifyRequest, "request_id", w.RequestID); err != nil {
		return VerifyRequest{}, err
	}
	spec, err := w.spec(kindVerifyRequest)
	if err != nil {
		return VerifyRequest{}, err
	}
	return VerifyRequest{RequestID: w.RequestID, Epoch: w.Epoch, Spec: spec}, nil
}

// EncodeVerifyReply encodes a veriflier's vote. Timings are truncated to
// whole milliseconds.
func EncodeVerifyReply(v uptime.Vote) ([]byte, error) {
	b, err := json.Marshal(verifyReplyWire{V: WireVersion, voteFields: encodeVote(v)})
	if err != nil {
		return nil, fmt.Errorf("encode verify reply: %w", err)
	}
	return b, nil
}

// encodeVote flattens a vote.
func encodeVote(v uptime.Vote) voteFields {
	return voteFields{
		Region:    v.Region,
		NodeID:    v.NodeID,
		Up:        &v.Up,
		HTTPCode:  v.HTTPCode,
		ErrorCode: int(v.ErrorCode),
		ErrorName: v.ErrorCode.String(),
		RTTMs:     units(v.RTT, time.Millisecond),
		DNSMs:     units(v.DNS, time.Millisecond),
		TCPMs:     units(v.TCP, time.Millisecond),
		TLSMs:     units(v.TLS, time.Millisecond),
		TTFBMs:    units(v.TTFB, time.Millisecond),
		CheckedAt: v.CheckedAt.UTC(),
	}
}

// DecodeVerifyReply decodes a vote. Required: v, region, node_id, up and
// checked_at; http_code is 0-999 and other numbers must not be negative.
func DecodeVerifyReply(data []byte) (uptime.Vote, error) {
	var w verifyReplyWire
	if err := unmarshal(kindVerifyReply, data, &w, &w.V); err != nil {
		return uptime.Vote{}, err
	}
	return decodeVote(kindVerifyReply, w.voteFields)
}

// decodeVote validates and converts one vote of a message of kind.
func decodeVote(kind string, w voteFields) (uptime.Vote, error) {
	if err := requireString(kind, "region", w.Region); err != nil {
		return uptime.Vote{}, err
	}
	if err := requireString(kind, "node_id", w.NodeID); err != nil {
		return uptime.Vote{}, err
	}
	switch {
	case w.Up == nil:
		return uptime.Vote{}, malformed(kind, "missing field %q", "up")
	case w.CheckedAt.IsZero():
		return uptime.Vote{}, malformed(kind, "missing field %q", "checked_at")
	case w.HTTPCode < 0 || w.HTTPCode > 999:
		return uptime.Vote{}, malformed(kind, "field %q: %d out of range 0-999", "http_code", w.HTTPCode)
	}
	if err := requireNonNegative(kind, "error_code", int64(w.ErrorCode)); err != nil {
		return uptime.Vote{}, err
	}
	v := uptime.Vote{Region: w.Region, NodeID: w.NodeID, Up: *w.Up, HTTPCode: w.HTTPCode, ErrorCode: uptime.ErrorCode(w.ErrorCode)}
	if err := decodeMillis(kind,
		millis{"rtt_ms", w.RTTMs, &v.RTT}, millis{"dns_ms", w.DNSMs, &v.DNS}, millis{"tcp_ms", w.TCPMs, &v.TCP},
		millis{"tls_ms", w.TLSMs, &v.TLS}, millis{"ttfb_ms", w.TTFBMs, &v.TTFB}); err != nil {
		return uptime.Vote{}, err
	}
	var err error
	if v.CheckedAt, err = wireTime(kind, "checked_at", w.CheckedAt); err != nil {
		return uptime.Vote{}, err
	}
	return v, nil
}
