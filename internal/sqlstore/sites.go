package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// DefaultSitePageSize is how many jetpack_monitor_sites rows one Sites query
// reads when SitesOpts.PageSize is zero.
const DefaultSitePageSize = 5000

// SitesOpts configures Sites. The zero value is usable.
type SitesOpts struct {
	// PageSize is how many rows one query reads (default
	// DefaultSitePageSize). Smaller pages hold locks and memory for less
	// time; larger ones cost fewer round trips.
	PageSize int
	// Logger gets one WARN line per call that met column values it could
	// not use. Nil discards.
	Logger *slog.Logger
}

// SiteRow is one blog's site as an incremental sync sees it: the wiring maps
// it to coordinator.SiteChange.
type SiteRow struct {
	Site   uptime.Site
	Active bool // false: the blog has no active row, remove it from the mirror
	// ChangedAt is the updated_at of the changed row that put this entry in
	// the result; a sync watermark advances to the greatest ChangedAt. It
	// equals Site.UpdatedAt unless the blog has several rows (see Sites).
	ChangedAt time.Time
}

// Sites reads site configuration from jetpack_monitor_sites.
//
// Columns map to uptime.Site as follows: check_interval is in minutes (0
// stays 0: the prober applies its floor); timeout_seconds and
// alert_cooldown_minutes NULL or 0 are 0 (the configured default);
// check_keyword NULL is no keyword; forbidden_keywords is a JSON array of
// strings (empty entries dropped) and custom_headers a JSON object of
// strings, both NULL or JSON null for none; maintenance_start and
// maintenance_end NULL are the zero time. A value that cannot be used (a
// JSON column of another shape, an unknown redirect_policy) is replaced by
// its default (no keywords, no headers, follow) so one bad row never stops
// a sync; each call that meets any logs one WARN line with the counts.
//
// The table keys rows by jetpack_monitor_site_id and only indexes blog_id,
// so a legacy database may hold several rows for one blog. The mesh keys
// sites by blog_id, so a blog's effective row is its active row with the
// highest jetpack_monitor_site_id; a blog without an active row is
// inactive. Both methods apply that rule, so the mirror gets one site per
// blog whichever rows change.
type Sites struct {
	db       *sql.DB
	pageSize int
	logger   *slog.Logger
}

// NewSites returns a site source on db (a pool from Open with the schema
// applied). It does no I/O.
func NewSites(db *sql.DB, opts SitesOpts) (*Sites, error) {
	if db == nil {
		return nil, errors.New("new sites: nil db")
	}
	if opts.PageSize < 0 {
		return nil, fmt.Errorf("new sites: page size %d must not be negative", opts.PageSize)
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultSitePageSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sites{db: db, pageSize: opts.PageSize, logger: opts.Logger}, nil
}

// activeQuery reads one page of effective active rows in a bucket range,
// in primary-key order after a key (keyset pagination). The NOT EXISTS probe
// drops a row shadowed by a newer active row of the same blog.
const activeQuery = `SELECT ` + siteColumns + `
FROM jetpack_monitor_sites s
WHERE s.jetpack_monitor_site_id > ? AND s.monitor_active = 1 AND s.bucket_no BETWEEN ? AND ?
  AND NOT EXISTS (SELECT 1 FROM jetpack_monitor_sites n
                  WHERE n.blog_id = s.blog_id AND n.monitor_active = 1
                    AND n.jetpack_monitor_site_id > s.jetpack_monitor_site_id)
ORDER BY s.jetpack_monitor_site_id
LIMIT ?`

// ActiveSites returns every blog whose effective row is active and lies in
// a bucket of r, in jetpack_monitor_site_id order. It reads in pages of
// PageSize rows by primary key, each page its own statement: a row changed
// while the pages are read may be returned before or after the change, so a
// caller that also syncs incrementally starts that sync from before this
// call.
func (s *Sites) ActiveSites(ctx context.Context, r uptime.BucketRange) ([]uptime.Site, error) {
	if r.Min < 0 || r.Max < r.Min {
		return nil, fmt.Errorf("active sites: invalid bucket range %d..%d", r.Min, r.Max)
	}
	var (
		out    []uptime.Site
		issues siteIssues
		after  uint64
	)
	for {
		n := len(out)
		var err error
		out, after, err = s.activePage(ctx, r, after, &issues, out)
		if err != nil {
			return nil, fmt.Errorf("active sites in buckets %d..%d: %w", r.Min, r.Max, err)
		}
		if len(out)-n < s.pageSize {
			break
		}
	}
	issues.log(s.logger, "active sites")
	return out, nil
}

// activePage appends the page after key to out and returns the last key read.
func (s *Sites) activePage(ctx context.Context, r uptime.BucketRange, after uint64, issues *siteIssues,
	out []uptime.Site) ([]uptime.Site, uint64, error) {
	rows, err := s.db.QueryContext(ctx, activeQuery, after, r.Min, r.Max, s.pageSize)
	if err != nil {
		return out, after, fmt.Errorf("query page after id %d: %w", after, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var raw rawSite
		if err := rows.Scan(raw.dest()...); err != nil {
			return out, after, fmt.Errorf("scan site: %w", err)
		}
		out = append(out, raw.site(issues))
		after = raw.id
	}
	if err := rows.Err(); err != nil {
		return out, after, fmt.Errorf("read page after id %d: %w", after, err)
	}
	return out, after, nil
}

// changedQuery reads one page of changed rows in (updated_at, id) order
// after a cursor, each joined to its blog's effective row: the newest active
// row, else the changed row itself. The derived table limits the page
// before the join, so each changed row costs one probe of idx_blog_id and
// one primary-key lookup.
const changedQuery = `SELECT ` + siteColumns + `, x.changed_at, x.changed_id
FROM (
    SELECT c.jetpack_monitor_site_id AS changed_id, c.updated_at AS changed_at,
           COALESCE((SELECT MAX(a.jetpack_monitor_site_id) FROM jetpack_monitor_sites a
                     WHERE a.blog_id = c.blog_id AND a.monitor_active = 1),
                    c.jetpack_monitor_site_id) AS effective_id
    FROM jetpack_monitor_sites c
    WHERE c.updated_at >= ?
      AND (c.updated_at > ? OR (c.updated_at = ? AND c.jetpack_monitor_site_id > ?))
    ORDER BY c.updated_at, c.jetpack_monitor_site_id
    LIMIT ?
) x
JOIN jetpack_monitor_sites s ON s.jetpack_monitor_site_id = x.effective_id
ORDER BY x.changed_at, x.changed_id`

// changeCursor is the (updated_at, id) of the last changed row read.
type changeCursor struct {
	at time.Time
	id uint64
}

// ChangedSince returns one entry per row whose updated_at is at or after
// since (active or not, any bucket), oldest change first, each carrying its
// blog's effective row: Active is whether the blog still has an active row.
// A blog with several changed rows appears once per changed row. since
// counts to the millisecond (updated_at's precision), rounded down. Deleted
// rows leave no trace here; a full sync (ActiveSites) removes them.
// Bookkeeping writes that keep updated_at (last_checked_at, ...) are not
// changes. It reads in pages of PageSize rows.
func (s *Sites) ChangedSince(ctx context.Context, since time.Time) ([]SiteRow, error) {
	// updated_at holds milliseconds. The driver sends a time.Time with all
	// its fractional digits, and MariaDB cannot use an index range for a
	// DATETIME compared with more than six: a 2 s sync would scan the
	// whole index.
	since = since.Truncate(time.Millisecond)
	var (
		out    []SiteRow
		issues siteIssues
	)
	cur := changeCursor{at: since}
	for {
		n := len(out)
		var err error
		out, cur, err = s.changedPage(ctx, since, cur, &issues, out)
		if err != nil {
			return nil, fmt.Errorf("sites changed since %s: %w", since.UTC().Format(time.RFC3339Nano), err)
		}
		if len(out)-n < s.pageSize {
			break
		}
	}
	issues.log(s.logger, "changed sites")
	return out, nil
}

// changedPage appends the page after cur to out and returns the new cursor.
func (s *Sites) changedPage(ctx context.Context, since time.Time, cur changeCursor, issues *siteIssues,
	out []SiteRow) ([]SiteRow, changeCursor, error) {
	rows, err := s.db.QueryContext(ctx, changedQuery, since, cur.at, cur.at, cur.id, s.pageSize)
	if err != nil {
		return out, cur, fmt.Errorf("query page after id %d: %w", cur.id, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var raw rawSite
		if err := rows.Scan(append(raw.dest(), &cur.at, &cur.id)...); err != nil {
			return out, cur, fmt.Errorf("scan site: %w", err)
		}
		out = append(out, SiteRow{Site: raw.site(issues), Active: raw.active == 1, ChangedAt: cur.at})
	}
	if err := rows.Err(); err != nil {
		return out, cur, fmt.Errorf("read page after id %d: %w", cur.id, err)
	}
	return out, cur, nil
}
