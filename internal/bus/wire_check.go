package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// checkRequestWire is an on-demand check request on ProberCheckSubject: the
// check spec with the field names of a site.
type checkRequestWire struct {
	V                 int               `json:"v"`
	BlogID            int64             `json:"blog_id"`
	URL               string            `json:"url"`
	TimeoutSec        int64             `json:"timeout_sec"`
	Keyword           string            `json:"keyword"`
	ForbiddenKeywords []string          `json:"forbidden_keywords"`
	Headers           map[string]string `json:"headers"`
	RedirectPolicy    string            `json:"redirect_policy"`
}

// checkResultWire is the data of an on-demand check reply.
type checkResultWire struct {
	BlogID int64 `json:"blog_id"`
	checkFields
}

const (
	kindCheckRequest = "check request"
	kindCheckReply   = "check reply"
)

// EncodeCheckRequest encodes an on-demand check request. The timeout is
// truncated to whole seconds.
func EncodeCheckRequest(spec uptime.CheckSpec) ([]byte, error) {
	b, err := json.Marshal(checkRequestOf(spec))
	if err != nil {
		return nil, fmt.Errorf("encode check request: %w", err)
	}
	return b, nil
}

// checkRequestOf is spec's wire form; an empty redirect policy is written
// as "follow".
func checkRequestOf(spec uptime.CheckSpec) checkRequestWire {
	policy := spec.RedirectPolicy
	if policy == "" {
		policy = uptime.RedirectFollow
	}
	return checkRequestWire{
		V:                 WireVersion,
		BlogID:            spec.BlogID,
		URL:               spec.URL,
		TimeoutSec:        units(spec.Timeout, time.Second),
		Keyword:           spec.Keyword,
		ForbiddenKeywords: nonNilSlice(spec.ForbiddenKeywords),
		Headers:           nonNilMap(spec.Headers),
		RedirectPolicy:    string(policy),
	}
}

// spec decodes the check spec of a decoded request of kind.
func (w checkRequestWire) spec(kind string) (uptime.CheckSpec, error) {
	return decodeSpec(kind, specFields{
		blogID: w.BlogID, url: w.URL, timeoutSec: w.TimeoutSec, keyword: w.Keyword,
		forbidden: w.ForbiddenKeywords, headers: w.Headers, policy: w.RedirectPolicy,
	})
}

// DecodeCheckRequest decodes an on-demand check request. Required: v and
// url; blog_id must not be negative (0 is an ad-hoc check).
func DecodeCheckRequest(data []byte) (uptime.CheckSpec, error) {
	var w checkRequestWire
	if err := unmarshal(kindCheckRequest, data, &w, &w.V); err != nil {
		return uptime.CheckSpec{}, err
	}
	if err := requireNonNegative(kindCheckRequest, "blog_id", w.BlogID); err != nil {
		return uptime.CheckSpec{}, err
	}
	return w.spec(kindCheckRequest)
}

// EncodeCheckReply encodes the successful reply to an on-demand check: a
// command reply envelope whose data is the check outcome.
func EncodeCheckReply(r uptime.Result) ([]byte, error) {
	data, err := json.Marshal(checkResultWire{BlogID: r.BlogID, checkFields: encodeCheck(r)})
	if err != nil {
		return nil, fmt.Errorf("encode check reply: %w", err)
	}
	return EncodeCommandReply(data, nil)
}

// DecodeCheckReply decodes the reply to an on-demand check. A failed reply
// returns a *CommandError.
func DecodeCheckReply(data []byte) (uptime.Result, error) {
	payload, err := DecodeCommandReply(data)
	if err != nil {
		return uptime.Result{}, err
	}
	return decodeCheckResult(payload)
}

// decodeCheckResult decodes the data of a successful check reply.
func decodeCheckResult(payload []byte) (uptime.Result, error) {
	if len(payload) == 0 {
		return uptime.Result{}, malformed(kindCheckReply, "missing field %q", "data")
	}
	var w checkResultWire
	if err := json.Unmarshal(payload, &w); err != nil {
		return uptime.Result{}, malformed(kindCheckReply, "data: %v", err)
	}
	if err := requireNonNegative(kindCheckReply, "blog_id", w.BlogID); err != nil {
		return uptime.Result{}, err
	}
	return decodeCheck(kindCheckReply, w.BlogID, w.checkFields)
}
