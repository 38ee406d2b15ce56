package apistore

import (
	"database/sql"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// siteColumns are the jetpack_monitor_sites columns siteRow.dest scans, from
// the row aliased s: configuration, then the coordinator's bookkeeping.
const siteColumns = `s.jetpack_monitor_site_id, s.blog_id, s.bucket_no, s.monitor_url, s.monitor_active,
       s.check_interval, s.check_keyword, s.forbidden_keywords, s.custom_headers, s.timeout_seconds,
       s.redirect_policy, s.maintenance_start, s.maintenance_end, s.alert_cooldown_minutes,
       s.site_status, s.last_status_change, s.last_checked_at, s.ssl_expiry_date, s.last_alert_sent_at,
       s.created_at, s.updated_at`

// effectiveRow is true for the row aliased s when it is its blog's
// effective row: no other row of the blog is active while s is not, or
// equally active and newer.
const effectiveRow = `NOT EXISTS (SELECT 1 FROM jetpack_monitor_sites n WHERE n.blog_id = s.blog_id
       AND ((n.monitor_active = 1) > (s.monitor_active = 1)
            OR ((n.monitor_active = 1) = (s.monitor_active = 1)
                AND n.jetpack_monitor_site_id > s.jetpack_monitor_site_id)))`

// visibleTo is true for the row aliased s when the tenant (the one
// argument) may see its blog.
const visibleTo = `EXISTS (SELECT 1 FROM jetmon_site_tenants t WHERE t.tenant_id = ? AND t.blog_id = s.blog_id)`

// siteRow is one jetpack_monitor_sites row as scanned.
type siteRow struct {
	id                           int64
	cfg                          uptime.SiteConfig
	active                       int64
	keyword                      sql.NullString
	forbidden, headers           []byte
	timeoutSec, cooldownMin      sql.NullInt64
	policy                       string
	maintStart, maintEnd         sql.NullTime
	status                       int64
	statusChange, checked, alert sql.NullTime
	sslExpiry                    sql.NullTime
}

// dest returns scan destinations in siteColumns order.
func (r *siteRow) dest() []any {
	return []any{&r.id, &r.cfg.BlogID, &r.cfg.Bucket, &r.cfg.URL, &r.active,
		&r.cfg.CheckIntervalMin, &r.keyword, &r.forbidden, &r.headers, &r.timeoutSec,
		&r.policy, &r.maintStart, &r.maintEnd, &r.cooldownMin,
		&r.status, &r.statusChange, &r.checked, &r.sslExpiry, &r.alert,
		&r.cfg.CreatedAt, &r.cfg.UpdatedAt}
}

// site converts the row. Values it cannot use (a JSON column of another
// shape, an unknown redirect policy) become their defaults and are logged.
func (s *Store) site(r *siteRow) uptime.SiteConfig {
	c := r.cfg
	c.Active = r.active == 1
	c.Keyword = r.keyword.String
	var ok bool
	if c.ForbiddenKeywords, ok = decodeStrings(r.forbidden); !ok {
		s.warnColumn("jetpack_monitor_sites", "forbidden_keywords", r.id)
	}
	if c.Headers, ok = decodeMap(r.headers); !ok {
		s.warnColumn("jetpack_monitor_sites", "custom_headers", r.id)
	}
	c.TimeoutSec = int(r.timeoutSec.Int64)
	policy, err := uptime.ParseRedirectPolicy(r.policy)
	if err != nil {
		s.warnColumn("jetpack_monitor_sites", "redirect_policy", r.id)
		policy = uptime.RedirectFollow
	}
	c.RedirectPolicy = policy
	c.MaintenanceStart, c.MaintenanceEnd = timeOf(r.maintStart), timeOf(r.maintEnd)
	if r.cooldownMin.Valid {
		v := int(r.cooldownMin.Int64)
		c.AlertCooldownMin = &v
	}
	c.LegacyStatus = uptime.LegacyStatus(r.status)
	c.LastStatusChange, c.LastCheckedAt, c.LastAlertSentAt = timeOf(r.statusChange), timeOf(r.checked), timeOf(r.alert)
	c.SSLExpiryDate = timeOf(r.sslExpiry)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}
