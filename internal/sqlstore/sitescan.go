package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// siteColumns are the jetpack_monitor_sites columns rawSite.dest scans, from
// the row aliased s.
const siteColumns = `s.jetpack_monitor_site_id, s.blog_id, s.bucket_no, s.monitor_url, s.monitor_active,
       s.check_interval, s.check_keyword, s.forbidden_keywords, s.custom_headers, s.timeout_seconds,
       s.redirect_policy, s.maintenance_start, s.maintenance_end, s.alert_cooldown_minutes, s.updated_at`

// rawSite is one jetpack_monitor_sites row as scanned.
type rawSite struct {
	id           uint64
	blogID       int64
	bucket       int
	url          string
	active       int64
	intervalMin  int64
	keyword      sql.NullString
	forbidden    []byte
	headers      []byte
	timeoutSec   sql.NullInt64
	policy       string
	maintStart   sql.NullTime
	maintEnd     sql.NullTime
	cooldownMin  sql.NullInt64
	updatedAtRow time.Time
}

// dest returns scan destinations in siteColumns order.
func (r *rawSite) dest() []any {
	return []any{&r.id, &r.blogID, &r.bucket, &r.url, &r.active,
		&r.intervalMin, &r.keyword, &r.forbidden, &r.headers, &r.timeoutSec,
		&r.policy, &r.maintStart, &r.maintEnd, &r.cooldownMin, &r.updatedAtRow}
}

// site converts the row, replacing unusable values by their defaults and
// counting them in issues.
func (r *rawSite) site(issues *siteIssues) uptime.Site {
	forbidden, ok := decodeKeywords(r.forbidden)
	if !ok {
		issues.note(&issues.keywords, r.blogID)
	}
	headers, ok := decodeHeaders(r.headers)
	if !ok {
		issues.note(&issues.headers, r.blogID)
	}
	policy, err := uptime.ParseRedirectPolicy(r.policy)
	if err != nil {
		policy = uptime.RedirectFollow
		issues.note(&issues.policy, r.blogID)
	}
	return uptime.Site{
		BlogID: r.blogID,
		Bucket: r.bucket,
		Spec: uptime.CheckSpec{
			BlogID:            r.blogID,
			URL:               r.url,
			Timeout:           time.Duration(r.timeoutSec.Int64) * time.Second,
			Keyword:           r.keyword.String,
			ForbiddenKeywords: forbidden,
			Headers:           headers,
			RedirectPolicy:    policy,
		},
		CheckInterval:    time.Duration(r.intervalMin) * time.Minute,
		MaintenanceStart: r.maintStart.Time,
		MaintenanceEnd:   r.maintEnd.Time,
		AlertCooldown:    time.Duration(r.cooldownMin.Int64) * time.Minute,
		UpdatedAt:        r.updatedAtRow,
	}
}

// isNull reports whether a JSON column holds SQL NULL, nothing, or JSON null.
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// decodeKeywords decodes forbidden_keywords, dropping empty entries; ok is
// false when the value is not a JSON array of strings.
func decodeKeywords(b []byte) (keywords []string, ok bool) {
	if isNull(b) {
		return nil, true
	}
	var all []string
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, false
	}
	for _, k := range all {
		if k != "" {
			keywords = append(keywords, k)
		}
	}
	return keywords, true
}

// decodeHeaders decodes custom_headers; ok is false when the value is not a
// JSON object of strings.
func decodeHeaders(b []byte) (headers map[string]string, ok bool) {
	if isNull(b) {
		return nil, true
	}
	if err := json.Unmarshal(b, &headers); err != nil {
		return nil, false
	}
	if len(headers) == 0 {
		return nil, true
	}
	return headers, true
}

// siteIssues counts, over one call, the values replaced by defaults.
type siteIssues struct {
	keywords, headers, policy int
	firstBlogID               int64 // the first blog with any issue
}

// note counts one issue of the blog in *counter.
func (s *siteIssues) note(counter *int, blogID int64) {
	if s.keywords+s.headers+s.policy == 0 {
		s.firstBlogID = blogID
	}
	*counter++
}

// log writes one WARN line when any value was replaced.
func (s *siteIssues) log(logger *slog.Logger, op string) {
	if s.keywords+s.headers+s.policy == 0 {
		return
	}
	logger.Warn("unusable site columns replaced by defaults", "component", "sqlstore", "op", op,
		"forbidden_keywords", s.keywords, "custom_headers", s.headers, "redirect_policy", s.policy,
		"site_id", s.firstBlogID)
}
