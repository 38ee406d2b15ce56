package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// siteWire is a KVSites value. Durations are whole seconds (minutes for the
// cooldown), as in jetpack_monitor_sites.
type siteWire struct {
	V                 int               `json:"v"`
	BlogID            int64             `json:"blog_id"`
	Bucket            *int              `json:"bucket"`
	URL               string            `json:"url"`
	CheckIntervalSec  int64             `json:"check_interval_sec"`
	TimeoutSec        int64             `json:"timeout_sec"`
	Keyword           string            `json:"keyword"`
	ForbiddenKeywords []string          `json:"forbidden_keywords"`
	Headers           map[string]string `json:"headers"`
	RedirectPolicy    string            `json:"redirect_policy"`
	MaintenanceStart  *time.Time        `json:"maintenance_start"`
	MaintenanceEnd    *time.Time        `json:"maintenance_end"`
	AlertCooldownMin  int64             `json:"alert_cooldown_min"`
	UpdatedAt         time.Time         `json:"updated_at"`
}

const kindSite = "site"

// EncodeSite encodes s as a KVSites value. Durations are truncated to whole
// seconds (the cooldown to whole minutes); an empty redirect policy is
// written as "follow".
func EncodeSite(s uptime.Site) ([]byte, error) {
	policy := s.Spec.RedirectPolicy
	if policy == "" {
		policy = uptime.RedirectFollow
	}
	w := siteWire{
		V:                 WireVersion,
		BlogID:            s.BlogID,
		Bucket:            &s.Bucket,
		URL:               s.Spec.URL,
		CheckIntervalSec:  units(s.CheckInterval, time.Second),
		TimeoutSec:        units(s.Spec.Timeout, time.Second),
		Keyword:           s.Spec.Keyword,
		ForbiddenKeywords: nonNilSlice(s.Spec.ForbiddenKeywords),
		Headers:           nonNilMap(s.Spec.Headers),
		RedirectPolicy:    string(policy),
		MaintenanceStart:  optTime(s.MaintenanceStart),
		MaintenanceEnd:    optTime(s.MaintenanceEnd),
		AlertCooldownMin:  units(s.AlertCooldown, time.Minute),
		UpdatedAt:         s.UpdatedAt.UTC(),
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode site %d: %w", s.BlogID, err)
	}
	return b, nil
}

// DecodeSite decodes a KVSites value. Required: v, blog_id (> 0), bucket
// (>= 0) and url; the redirect policy must be one of uptime's. Empty lists
// and maps decode as nil.
func DecodeSite(data []byte) (uptime.Site, error) {
	var w siteWire
	if err := unmarshal(kindSite, data, &w, &w.V); err != nil {
		return uptime.Site{}, err
	}
	if w.BlogID <= 0 {
		return uptime.Site{}, malformed(kindSite, "field %q: missing or <= 0", "blog_id")
	}
	if w.Bucket == nil || *w.Bucket < 0 {
		return uptime.Site{}, malformed(kindSite, "field %q: missing or < 0", "bucket")
	}
	spec, err := decodeSpec(kindSite, specFields{
		blogID: w.BlogID, url: w.URL, timeoutSec: w.TimeoutSec, keyword: w.Keyword,
		forbidden: w.ForbiddenKeywords, headers: w.Headers, policy: w.RedirectPolicy,
	})
	if err != nil {
		return uptime.Site{}, err
	}
	s := uptime.Site{BlogID: w.BlogID, Bucket: *w.Bucket, Spec: spec}
	if s.CheckInterval, err = duration(kindSite, "check_interval_sec", w.CheckIntervalSec, time.Second); err != nil {
		return uptime.Site{}, err
	}
	if s.AlertCooldown, err = duration(kindSite, "alert_cooldown_min", w.AlertCooldownMin, time.Minute); err != nil {
		return uptime.Site{}, err
	}
	if s.MaintenanceStart, err = fromOptTime(kindSite, "maintenance_start", w.MaintenanceStart); err != nil {
		return uptime.Site{}, err
	}
	if s.MaintenanceEnd, err = fromOptTime(kindSite, "maintenance_end", w.MaintenanceEnd); err != nil {
		return uptime.Site{}, err
	}
	if s.UpdatedAt, err = wireTime(kindSite, "updated_at", w.UpdatedAt); err != nil {
		return uptime.Site{}, err
	}
	return s, nil
}

// specFields are the check spec fields shared by a site and an on-demand
// check request.
type specFields struct {
	blogID     int64
	url        string
	timeoutSec int64
	keyword    string
	forbidden  []string
	headers    map[string]string
	policy     string
}

// decodeSpec validates and converts decoded spec fields.
func decodeSpec(kind string, f specFields) (uptime.CheckSpec, error) {
	if err := requireString(kind, "url", f.url); err != nil {
		return uptime.CheckSpec{}, err
	}
	timeout, err := duration(kind, "timeout_sec", f.timeoutSec, time.Second)
	if err != nil {
		return uptime.CheckSpec{}, err
	}
	policy, err := uptime.ParseRedirectPolicy(f.policy)
	if err != nil {
		return uptime.CheckSpec{}, malformed(kind, "field %q: %v", "redirect_policy", err)
	}
	return uptime.CheckSpec{
		BlogID:            f.blogID,
		URL:               f.url,
		Timeout:           timeout,
		Keyword:           f.keyword,
		ForbiddenKeywords: nilIfEmpty(f.forbidden),
		Headers:           nilIfEmptyMap(f.headers),
		RedirectPolicy:    policy,
	}, nil
}

// nonNilSlice makes nil encode as [] rather than null.
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nonNilMap makes nil encode as {} rather than null.
func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
