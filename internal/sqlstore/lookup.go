package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// lookupChunk is how many blog ids one Lookup statement reads.
const lookupChunk = 500

// SiteRecord is one blog's effective row as the incident decisions need it:
// the site, whether it is active, and the bookkeeping the coordinator
// writes on it.
type SiteRecord struct {
	Site   uptime.Site
	Active bool
	// LastCheckedAt is last_checked_at (whole seconds); zero when NULL.
	LastCheckedAt time.Time
	// LastAlertSentAt is last_alert_sent_at, the last down notification;
	// zero when NULL.
	LastAlertSentAt time.Time
}

// lookupQuery reads the effective rows of a list of blogs: each blog's
// newest active row, else its newest row. The derived table groups the
// blogs' rows through idx_blog_id; the join is a primary-key lookup.
const lookupQuery = `SELECT ` + siteColumns + `, s.last_checked_at, s.last_alert_sent_at
FROM (
    SELECT COALESCE(MAX(CASE WHEN monitor_active = 1 THEN jetpack_monitor_site_id END),
                    MAX(jetpack_monitor_site_id)) AS effective_id
    FROM jetpack_monitor_sites
    WHERE blog_id IN (%s)
    GROUP BY blog_id
) e
JOIN jetpack_monitor_sites s ON s.jetpack_monitor_site_id = e.effective_id
ORDER BY s.blog_id`

// Lookup returns the effective row of each blog of blogIDs that has any
// row, active or not (the rule of Sites), in blog_id order; blogs without a
// row are absent. Repeated ids count once. Unusable column values are
// replaced by their defaults as in ActiveSites.
func (s *Sites) Lookup(ctx context.Context, blogIDs []int64) ([]SiteRecord, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(blogIDs)))
	var (
		out    []SiteRecord
		issues siteIssues
	)
	for part := range slices.Chunk(ids, lookupChunk) {
		var err error
		if out, err = s.lookupChunk(ctx, part, &issues, out); err != nil {
			return nil, fmt.Errorf("look up %d sites: %w", len(ids), err)
		}
	}
	issues.log(s.logger, "look up sites")
	return out, nil
}

// lookupChunk appends the effective rows of ids to out.
func (s *Sites) lookupChunk(ctx context.Context, ids []int64, issues *siteIssues, out []SiteRecord) ([]SiteRecord, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	query := fmt.Sprintf(lookupQuery, "?"+strings.Repeat(", ?", len(ids)-1))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var (
			raw              rawSite
			checked, alerted sql.NullTime
		)
		if err := rows.Scan(append(raw.dest(), &checked, &alerted)...); err != nil {
			return out, fmt.Errorf("scan site: %w", err)
		}
		out = append(out, SiteRecord{Site: raw.site(issues), Active: raw.active == 1,
			LastCheckedAt: checked.Time, LastAlertSentAt: alerted.Time})
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read: %w", err)
	}
	return out, nil
}
