package api

import (
	"net/url"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Site field limits (the jetpack_monitor_sites columns and sane ranges).
const (
	maxURLLen          = 2083
	defaultInterval    = 5
	maxIntervalMin     = 1440
	maxTimeoutSec      = 60
	maxCooldownMin     = 10080 // a week
	maxBucketColumn    = 65535
	maxCustomHeaders   = 20
	maxHeaderValueLen  = 1024
	maxCloseNoteLength = 1000
)

// CreateSiteRequest is the body of POST /sites.
type CreateSiteRequest struct {
	BlogID               int64                  `json:"blog_id" doc:"the site's id, > 0"`
	MonitorURL           string                 `json:"monitor_url" doc:"http(s) URL with a host"`
	MonitorActive        *bool                  `json:"monitor_active,omitempty" doc:"default true"`
	BucketNo             *int                   `json:"bucket_no,omitempty" doc:"default blog_id mod BUCKET_TOTAL"`
	CheckInterval        *int                   `json:"check_interval,omitempty" doc:"minutes, 1-1440 (default 5)"`
	CheckKeyword         *string                `json:"check_keyword,omitempty" doc:"required in the body; \"\" for none"`
	ForbiddenKeywords    []string               `json:"forbidden_keywords,omitempty" doc:"at most 20, none may appear in the body"`
	CustomHeaders        map[string]string      `json:"custom_headers,omitempty" doc:"request headers sent with each check (never returned)"`
	TimeoutSeconds       *int                   `json:"timeout_seconds,omitempty" doc:"1-60; default NET_COMMS_TIMEOUT"`
	RedirectPolicy       *uptime.RedirectPolicy `json:"redirect_policy,omitempty" doc:"default follow"`
	MaintenanceStart     *time.Time             `json:"maintenance_start,omitempty" doc:"with maintenance_end: a maintenance window"`
	MaintenanceEnd       *time.Time             `json:"maintenance_end,omitempty"`
	AlertCooldownMinutes *int                   `json:"alert_cooldown_minutes,omitempty" doc:"0-10080; default ALERT_COOLDOWN_MINUTES"`
}

// UpdateSiteRequest is the body of PATCH /sites/{site_id}: an absent field
// is unchanged; null clears a clearable field (check_keyword,
// forbidden_keywords, custom_headers, timeout_seconds, maintenance_start,
// maintenance_end, alert_cooldown_minutes) and is invalid for the others.
type UpdateSiteRequest struct {
	MonitorURL           Nullable[string]                `json:"monitor_url,omitempty"`
	MonitorActive        Nullable[bool]                  `json:"monitor_active,omitempty" doc:"false pauses the site as POST /pause does"`
	BucketNo             Nullable[int]                   `json:"bucket_no,omitempty"`
	CheckInterval        Nullable[int]                   `json:"check_interval,omitempty"`
	CheckKeyword         Nullable[string]                `json:"check_keyword,omitempty" doc:"null or \"\" clears"`
	ForbiddenKeywords    Nullable[[]string]              `json:"forbidden_keywords,omitempty" doc:"null or [] clears"`
	CustomHeaders        Nullable[map[string]string]     `json:"custom_headers,omitempty" doc:"replaces every header; null or {} clears"`
	TimeoutSeconds       Nullable[int]                   `json:"timeout_seconds,omitempty"`
	RedirectPolicy       Nullable[uptime.RedirectPolicy] `json:"redirect_policy,omitempty"`
	MaintenanceStart     Nullable[time.Time]             `json:"maintenance_start,omitempty"`
	MaintenanceEnd       Nullable[time.Time]             `json:"maintenance_end,omitempty"`
	AlertCooldownMinutes Nullable[int]                   `json:"alert_cooldown_minutes,omitempty"`
}

// siteOfRequest validates a create request into the row to insert.
func (s *Server) siteOfRequest(in *CreateSiteRequest) (uptime.SiteConfig, error) {
	if in.BlogID < 1 {
		return uptime.SiteConfig{}, fieldErr(codeInvalidBlogID, "blog_id", "required, > 0")
	}
	cfg := uptime.SiteConfig{BlogID: in.BlogID, URL: in.MonitorURL, Active: true, CheckIntervalMin: defaultInterval,
		RedirectPolicy: uptime.RedirectFollow, Keyword: deref(in.CheckKeyword),
		ForbiddenKeywords: in.ForbiddenKeywords, Headers: in.CustomHeaders}
	if s.opts.BucketTotal > 0 {
		cfg.Bucket = int(in.BlogID % int64(s.opts.BucketTotal))
	}
	if in.MonitorActive != nil {
		cfg.Active = *in.MonitorActive
	}
	checks := []error{
		checkURL("monitor_url", in.MonitorURL),
		setInt(&cfg.Bucket, in.BucketNo, "bucket_no", 0, s.maxBucket()),
		setInt(&cfg.CheckIntervalMin, in.CheckInterval, "check_interval", 1, maxIntervalMin),
		setInt(&cfg.TimeoutSec, in.TimeoutSeconds, "timeout_seconds", 1, maxTimeoutSec),
		checkKeywords(cfg.Keyword, cfg.ForbiddenKeywords),
		checkHeaders(cfg.Headers),
		checkMaintenance(deref(in.MaintenanceStart), deref(in.MaintenanceEnd), true),
	}
	if in.RedirectPolicy != nil {
		checks = append(checks, checkRedirect(*in.RedirectPolicy))
		cfg.RedirectPolicy = *in.RedirectPolicy
	}
	if in.AlertCooldownMinutes != nil {
		cfg.AlertCooldownMin = ptr(0)
		checks = append(checks, setInt(cfg.AlertCooldownMin, in.AlertCooldownMinutes, "alert_cooldown_minutes", 0, maxCooldownMin))
	}
	cfg.MaintenanceStart, cfg.MaintenanceEnd = deref(in.MaintenanceStart), deref(in.MaintenanceEnd)
	return cfg, firstErr(checks...)
}

// patchOfRequest validates a PATCH body into a SitePatch.
func (s *Server) patchOfRequest(in *UpdateSiteRequest) (SitePatch, error) {
	var p SitePatch
	checks := []error{
		notNull("monitor_url", in.MonitorURL.Null), notNull("monitor_active", in.MonitorActive.Null),
		notNull("bucket_no", in.BucketNo.Null), notNull("check_interval", in.CheckInterval.Null),
		notNull("redirect_policy", in.RedirectPolicy.Null),
	}
	if in.MonitorURL.Set && !in.MonitorURL.Null {
		p.URL = ptr(in.MonitorURL.Value)
		checks = append(checks, checkURL("monitor_url", in.MonitorURL.Value))
	}
	p.Active = setValue(in.MonitorActive)
	p.Bucket = setValue(in.BucketNo)
	p.CheckIntervalMin = setValue(in.CheckInterval)
	checks = append(checks, rangeOf(p.Bucket, "bucket_no", 0, s.maxBucket()),
		rangeOf(p.CheckIntervalMin, "check_interval", 1, maxIntervalMin))
	if in.RedirectPolicy.Set && !in.RedirectPolicy.Null {
		p.RedirectPolicy = ptr(in.RedirectPolicy.Value)
		checks = append(checks, checkRedirect(in.RedirectPolicy.Value))
	}
	p.Keyword = clearable(in.CheckKeyword, "")
	p.ForbiddenKeywords = clearable(in.ForbiddenKeywords, []string{})
	checks = append(checks, checkKeywords(deref(p.Keyword), deref(p.ForbiddenKeywords)))
	p.Headers = clearable(in.CustomHeaders, map[string]string{})
	checks = append(checks, checkHeaders(deref(p.Headers)))
	p.TimeoutSec = clearable(in.TimeoutSeconds, 0)
	if in.TimeoutSeconds.Set && !in.TimeoutSeconds.Null {
		checks = append(checks, rangeOf(p.TimeoutSec, "timeout_seconds", 1, maxTimeoutSec))
	}
	p.MaintenanceStart = clearable(in.MaintenanceStart, time.Time{})
	p.MaintenanceEnd = clearable(in.MaintenanceEnd, time.Time{})
	checks = append(checks, checkMaintenance(deref(p.MaintenanceStart), deref(p.MaintenanceEnd), false))
	if in.AlertCooldownMinutes.Set {
		p.ClearAlertCooldown = in.AlertCooldownMinutes.Null
		p.AlertCooldownMin = setValue(in.AlertCooldownMinutes)
		checks = append(checks, rangeOf(p.AlertCooldownMin, "alert_cooldown_minutes", 0, maxCooldownMin))
	}
	return p, firstErr(checks...)
}

// emptyPatch reports whether p changes nothing.
func emptyPatch(p SitePatch) bool {
	return p == SitePatch{}
}

func (s *Server) maxBucket() int {
	if s.opts.BucketTotal > 0 {
		return s.opts.BucketTotal - 1
	}
	return maxBucketColumn
}

func checkURL(field, v string) error {
	u, err := url.Parse(v)
	switch {
	case v == "":
		return fieldErr(codeInvalidURL, field, "required")
	case len(v) > maxURLLen:
		return fieldErr(codeInvalidURL, field, "longer than %d characters", maxURLLen)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		return fieldErr(codeInvalidURL, field, "must be an http or https URL with a host")
	case strings.ContainsAny(v, " \t\r\n"):
		return fieldErr(codeInvalidURL, field, "must not contain whitespace")
	}
	return nil
}

func checkRedirect(p uptime.RedirectPolicy) error {
	if _, err := uptime.ParseRedirectPolicy(string(p)); err != nil || p == "" {
		return fieldErr(codeInvalidRedirect, "redirect_policy", "must be follow, alert or fail")
	}
	return nil
}

func checkKeywords(keyword string, forbidden []string) error {
	if len(keyword) > uptime.MaxKeywordLengthBytes {
		return fieldErr(codeInvalidField, "check_keyword", "longer than %d bytes", uptime.MaxKeywordLengthBytes)
	}
	if len(forbidden) > uptime.MaxForbiddenKeywords {
		return fieldErr(codeInvalidField, "forbidden_keywords", "at most %d keywords", uptime.MaxForbiddenKeywords)
	}
	for _, k := range forbidden {
		if k == "" || len(k) > uptime.MaxKeywordLengthBytes {
			return fieldErr(codeInvalidField, "forbidden_keywords", "each keyword is 1-%d bytes", uptime.MaxKeywordLengthBytes)
		}
	}
	return nil
}

func checkHeaders(h map[string]string) error {
	if len(h) > maxCustomHeaders {
		return fieldErr(codeInvalidHeaders, "custom_headers", "at most %d headers", maxCustomHeaders)
	}
	for name, v := range h {
		if !headerToken(name) {
			return fieldErr(codeInvalidHeaders, "custom_headers", "%q is not a valid header name", name)
		}
		if len(v) > maxHeaderValueLen || !printable(v) {
			return fieldErr(codeInvalidHeaders, "custom_headers", "the value of %q must be printable ASCII, at most %d bytes", name, maxHeaderValueLen)
		}
	}
	return nil
}

// headerToken reports whether name is an RFC 9110 token.
func headerToken(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// checkMaintenance checks a window; on create both ends or neither.
func checkMaintenance(start, end time.Time, both bool) error {
	switch {
	case both && start.IsZero() != end.IsZero():
		return fieldErr(codeInvalidField, "maintenance_end", "give maintenance_start and maintenance_end together")
	case !start.IsZero() && !end.IsZero() && !end.After(start):
		return fieldErr(codeInvalidField, "maintenance_end", "must be after maintenance_start")
	}
	return nil
}

func notNull(field string, isNull bool) error {
	if isNull {
		return fieldErr(codeInvalidField, field, "must not be null")
	}
	return nil
}

// setInt stores *v in dst when v is set and within [lo, hi].
func setInt(dst *int, v *int, field string, lo, hi int) error {
	if v == nil {
		return nil
	}
	*dst = *v
	return rangeOf(v, field, lo, hi)
}

func rangeOf(v *int, field string, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return fieldErr(codeInvalidField, field, "must be between %d and %d", lo, hi)
	}
	return nil
}

// setValue is the value of a set, non-null field.
func setValue[T any](n Nullable[T]) *T {
	if !n.Set || n.Null {
		return nil
	}
	return ptr(n.Value)
}

// clearable is the value of a set field, with null meaning cleared.
func clearable[T any](n Nullable[T], cleared T) *T {
	switch {
	case !n.Set:
		return nil
	case n.Null:
		return ptr(cleared)
	default:
		return ptr(n.Value)
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
