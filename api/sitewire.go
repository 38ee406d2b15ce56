package api

import (
	"crypto/tls"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Site is a monitored site: its configuration and its derived state.
type Site struct {
	ID                   int64                 `json:"id" doc:"the blog_id (the public name)"`
	BlogID               int64                 `json:"blog_id"`
	MonitorURL           string                `json:"monitor_url"`
	MonitorActive        bool                  `json:"monitor_active"`
	BucketNo             int                   `json:"bucket_no"`
	CheckInterval        int                   `json:"check_interval" doc:"minutes between checks"`
	CurrentState         uptime.State          `json:"current_state" doc:"the worst open event's state, else Up (or the legacy site_status while LEGACY_STATUS_PROJECTION_ENABLE)"`
	CurrentSeverity      uptime.Severity       `json:"current_severity" doc:"0 Up, 1 Warning, 2 Degraded, 3 Seems Down, 4 Down"`
	ActiveEventID        *int64                `json:"active_event_id" doc:"the worst open event"`
	LastCheckedAt        *time.Time            `json:"last_checked_at"`
	LastStatusChangeAt   *time.Time            `json:"last_status_change_at"`
	SSLExpiryDate        *string               `json:"ssl_expiry_date" format:"date"`
	CheckKeyword         *string               `json:"check_keyword"`
	ForbiddenKeywords    []string              `json:"forbidden_keywords"`
	CustomHeaderNames    []string              `json:"custom_header_names" doc:"the custom request headers' names; values are never returned (they may be credentials)"`
	TimeoutSeconds       *int                  `json:"timeout_seconds" doc:"null: NET_COMMS_TIMEOUT"`
	RedirectPolicy       uptime.RedirectPolicy `json:"redirect_policy"`
	MaintenanceStart     *time.Time            `json:"maintenance_start"`
	MaintenanceEnd       *time.Time            `json:"maintenance_end"`
	AlertCooldownMinutes *int                  `json:"alert_cooldown_minutes" doc:"null: ALERT_COOLDOWN_MINUTES"`
	CreatedAt            time.Time             `json:"created_at"`
	UpdatedAt            time.Time             `json:"updated_at"`
}

// SiteDetail is a site with every open event, worst first.
type SiteDetail struct {
	Site
	ActiveEvents []ActiveEvent `json:"active_events"`
}

// ActiveEvent summarises an open event.
type ActiveEvent struct {
	ID        int64           `json:"id"`
	CheckType string          `json:"check_type"`
	Severity  uptime.Severity `json:"severity"`
	State     uptime.State    `json:"state"`
	StartedAt time.Time       `json:"started_at"`
}

// siteOf is the wire form of cfg with its derived state d.
func siteOf(cfg uptime.SiteConfig, d derived) Site {
	out := Site{
		ID: cfg.BlogID, BlogID: cfg.BlogID, MonitorURL: cfg.URL, MonitorActive: cfg.Active,
		BucketNo: cfg.Bucket, CheckInterval: cfg.CheckIntervalMin,
		CurrentState: d.state, CurrentSeverity: d.severity,
		LastCheckedAt: timePtr(cfg.LastCheckedAt), LastStatusChangeAt: timePtr(cfg.LastStatusChange),
		ForbiddenKeywords: nonNil(slices.Clone(cfg.ForbiddenKeywords)), CustomHeaderNames: []string{},
		RedirectPolicy:   cfg.RedirectPolicy,
		MaintenanceStart: timePtr(cfg.MaintenanceStart), MaintenanceEnd: timePtr(cfg.MaintenanceEnd),
		CreatedAt: utc(cfg.CreatedAt), UpdatedAt: utc(cfg.UpdatedAt),
	}
	if d.eventID != 0 {
		out.ActiveEventID = ptr(d.eventID)
	}
	if !cfg.SSLExpiryDate.IsZero() {
		out.SSLExpiryDate = ptr(cfg.SSLExpiryDate.UTC().Format(time.DateOnly))
	}
	if cfg.Keyword != "" {
		out.CheckKeyword = ptr(cfg.Keyword)
	}
	for name := range cfg.Headers {
		out.CustomHeaderNames = append(out.CustomHeaderNames, name)
	}
	slices.Sort(out.CustomHeaderNames)
	if cfg.TimeoutSec > 0 {
		out.TimeoutSeconds = ptr(cfg.TimeoutSec)
	}
	if out.RedirectPolicy == "" {
		out.RedirectPolicy = uptime.RedirectFollow
	}
	if cfg.AlertCooldownMin != nil {
		out.AlertCooldownMinutes = ptr(*cfg.AlertCooldownMin)
	}
	return out
}

// siteDetailOf adds the open events.
func siteDetailOf(cfg uptime.SiteConfig, d derived) SiteDetail {
	out := SiteDetail{Site: siteOf(cfg, d), ActiveEvents: make([]ActiveEvent, 0, len(d.open))}
	for _, ev := range d.open {
		out.ActiveEvents = append(out.ActiveEvents, ActiveEvent{
			ID: ev.ID, CheckType: ev.CheckType, Severity: ev.Severity, State: ev.State, StartedAt: utc(ev.StartedAt),
		})
	}
	return out
}

// CheckResult is one check's outcome (trigger-now).
type CheckResult struct {
	URL             string     `json:"url"`
	FinalURL        string     `json:"final_url" doc:"the URL judged after redirects"`
	Success         bool       `json:"success"`
	HTTPCode        int        `json:"http_code"`
	ErrorCode       int        `json:"error_code" doc:"Jetmon's error code (0 none, 1 timeout, 2 connect, 3 ssl, 4 redirect, 5 keyword, 6 tls_expired, 7 tls_deprecated, 8 body_read)"`
	ErrorName       string     `json:"error_name"`
	StatusType      string     `json:"status_type"`
	KeywordRule     string     `json:"keyword_rule" doc:"required or forbidden, when the keyword rule failed"`
	RedirectChanged bool       `json:"redirect_changed"`
	RTTMs           int64      `json:"rtt_ms"`
	DNSMs           int64      `json:"dns_ms"`
	TCPMs           int64      `json:"tcp_ms"`
	TLSMs           int64      `json:"tls_ms"`
	TTFBMs          int64      `json:"ttfb_ms"`
	TLSVersion      string     `json:"tls_version"`
	SSLExpiresAt    *time.Time `json:"ssl_expires_at"`
	CheckedAt       *time.Time `json:"checked_at"`
}

func checkResultOf(r uptime.Result) CheckResult {
	out := CheckResult{
		URL: r.URL, FinalURL: r.FinalURL, Success: r.Success, HTTPCode: r.HTTPCode,
		ErrorCode: int(r.ErrorCode), ErrorName: r.ErrorCode.String(), StatusType: r.StatusType(),
		KeywordRule: string(r.KeywordRule), RedirectChanged: r.RedirectChanged,
		RTTMs: r.RTT.Milliseconds(), DNSMs: r.DNS.Milliseconds(), TCPMs: r.TCP.Milliseconds(),
		TLSMs: r.TLS.Milliseconds(), TTFBMs: r.TTFB.Milliseconds(), CheckedAt: timePtr(r.CheckedAt),
	}
	if r.TLSVersion != 0 {
		out.TLSVersion = tls.VersionName(r.TLSVersion)
	}
	if r.SSLExpiry != nil {
		out.SSLExpiresAt = timePtr(*r.SSLExpiry)
	}
	return out
}

// TriggerNowResponse is trigger-now's answer: the owning prober's check and
// what its success closed.
type TriggerNowResponse struct {
	Result          CheckResult     `json:"result"`
	NodeID          string          `json:"node_id" doc:"the prober that checked"`
	Region          string          `json:"region"`
	EventsClosed    int             `json:"events_closed" doc:"open events the success closed (a failure opens nothing: the mesh's own checks decide)"`
	CurrentState    uptime.State    `json:"current_state"`
	CurrentSeverity uptime.Severity `json:"current_severity"`
	ActiveEventID   *int64          `json:"active_event_id"`
}
