package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Legacy projection drift: an active site row whose site_status differs from
// the value its open HTTP events imply (2 when one is Down, else 0 when one
// is Seems Down, else 1), the rule the event store's projection writes.
//
// Every query starts from the active rows (monitor_active = 1) of one bucket
// range and LEFT JOINs only their open HTTP events, then rolls them up per
// site row, so several open events of one site count once and events of
// sites outside the range are never read. State labels compare byte-exactly
// (CAST AS BINARY), as the projection writer compares them in Go: under the
// tables' case- and pad-insensitive collation 'down' or 'Down ' would
// otherwise count as Down. The queries use derived tables and GROUP BY only
// (no window functions), so they run unchanged on MariaDB 10.6 and MySQL 8.
//
// The representative event of a site (event_id) is its oldest open Down
// event, else its oldest open Seems Down event, else its oldest open HTTP
// event of any state; its state is the site's event state.
const driftRollupSQL = `
SELECT s.jetpack_monitor_site_id AS site_id, s.blog_id, s.bucket_no, s.site_status,
  CASE
    WHEN SUM(CASE WHEN CAST(e.state AS BINARY) = 'Down' THEN 1 ELSE 0 END) > 0 THEN 2
    WHEN SUM(CASE WHEN CAST(e.state AS BINARY) = 'Seems Down' THEN 1 ELSE 0 END) > 0 THEN 0
    ELSE 1
  END AS expected_status,
  COUNT(e.id) AS open_events,
  COALESCE(MIN(CASE WHEN CAST(e.state AS BINARY) = 'Down' THEN e.id END),
           MIN(CASE WHEN CAST(e.state AS BINARY) = 'Seems Down' THEN e.id END),
           MIN(e.id)) AS event_id
FROM jetpack_monitor_sites s
LEFT JOIN jetmon_events e
  ON e.blog_id = s.blog_id AND e.check_type = 'http' AND e.ended_at IS NULL
WHERE s.monitor_active = 1 AND s.bucket_no BETWEEN ? AND ?
GROUP BY s.jetpack_monitor_site_id, s.blog_id, s.bucket_no, s.site_status`

const driftCountSQL = `SELECT COUNT(*) FROM (` + driftRollupSQL + `
) r WHERE r.site_status <> r.expected_status`

const driftSummarySQL = `
SELECT r.bucket_no, r.site_status, r.expected_status, CAST(ev.state AS BINARY) AS event_state,
  COUNT(*) AS drift_count, MAX(r.open_events) AS open_events, MIN(r.blog_id) AS sample_blog
FROM (` + driftRollupSQL + `
) r
LEFT JOIN jetmon_events ev ON ev.id = r.event_id
WHERE r.site_status <> r.expected_status
GROUP BY r.bucket_no, r.site_status, r.expected_status, CAST(ev.state AS BINARY)
ORDER BY drift_count DESC, r.bucket_no, r.site_status, r.expected_status, event_state`

const driftRowsSQL = `
SELECT r.blog_id, r.bucket_no, r.site_status, r.expected_status, r.event_id, r.open_events,
  CAST(ev.state AS BINARY) AS event_state
FROM (` + driftRollupSQL + `
) r
LEFT JOIN jetmon_events ev ON ev.id = r.event_id
WHERE r.site_status <> r.expected_status
ORDER BY r.bucket_no, r.blog_id, r.site_id
LIMIT ?`

// DriftGroup is one line of the drift summary: the drifting sites of one
// bucket that share site_status, expected value and event state.
type DriftGroup struct {
	Bucket     int
	SiteStatus uptime.LegacyStatus // stored site_status (may be outside 0-2)
	Expected   uptime.LegacyStatus // value implied by the open HTTP events
	EventState string              // representative event's state; "" when no site has an open HTTP event
	Count      int                 // drifting sites in the group
	OpenEvents int                 // most open HTTP events of one site in the group
	SampleBlog int64               // lowest blog_id in the group
	Cause      DriftCause          // ClassifyDrift of the group
}

// DriftRow is one drifting site row.
type DriftRow struct {
	BlogID     int64
	Bucket     int
	SiteStatus uptime.LegacyStatus
	Expected   uptime.LegacyStatus
	EventID    int64  // representative open HTTP event; 0 when none is open
	OpenEvents int    // open HTTP events of the site
	EventState string // state of EventID; "" when none is open
	Cause      DriftCause
}

// DriftCount is the number of drifting active site rows in r: what the
// coordinator's jetmon_projection_drift gauge reports. It only reads.
func DriftCount(ctx context.Context, db *sql.DB, r uptime.BucketRange) (int, error) {
	if err := checkDriftRange(r); err != nil {
		return 0, err
	}
	var n int
	if err := db.QueryRowContext(ctx, driftCountSQL, r.Min, r.Max).Scan(&n); err != nil {
		return 0, fmt.Errorf("count projection drift in %d-%d: %w", r.Min, r.Max, err)
	}
	return n, nil
}

// DriftSummary returns every drift group of r, largest first (then by
// bucket, site_status, expected value and event state). It returns all
// groups, not a page, so cause totals can cover drift the caller does not
// print. It only reads.
func DriftSummary(ctx context.Context, db *sql.DB, r uptime.BucketRange) ([]DriftGroup, error) {
	if err := checkDriftRange(r); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, driftSummarySQL, r.Min, r.Max)
	if err != nil {
		return nil, fmt.Errorf("summarize projection drift in %d-%d: %w", r.Min, r.Max, err)
	}
	defer func() { _ = rows.Close() }()
	var out []DriftGroup
	for rows.Next() {
		var (
			g     DriftGroup
			state sql.Null[[]byte]
		)
		if err := rows.Scan(&g.Bucket, &g.SiteStatus, &g.Expected, &state, &g.Count, &g.OpenEvents, &g.SampleBlog); err != nil {
			return nil, fmt.Errorf("summarize projection drift in %d-%d: %w", r.Min, r.Max, err)
		}
		g.EventState = string(state.V)
		g.Cause = ClassifyDrift(g.SiteStatus, g.Expected, g.EventState, g.OpenEvents)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summarize projection drift in %d-%d: %w", r.Min, r.Max, err)
	}
	return out, nil
}

// DriftRows returns at most limit drifting site rows of r, by bucket then
// blog_id. It only reads.
func DriftRows(ctx context.Context, db *sql.DB, r uptime.BucketRange, limit int) ([]DriftRow, error) {
	if err := checkDriftRange(r); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("list projection drift: limit %d must be > 0", limit)
	}
	rows, err := db.QueryContext(ctx, driftRowsSQL, r.Min, r.Max, limit)
	if err != nil {
		return nil, fmt.Errorf("list projection drift in %d-%d: %w", r.Min, r.Max, err)
	}
	defer func() { _ = rows.Close() }()
	var out []DriftRow
	for rows.Next() {
		var (
			d       DriftRow
			eventID sql.Null[int64]
			state   sql.Null[[]byte]
		)
		if err := rows.Scan(&d.BlogID, &d.Bucket, &d.SiteStatus, &d.Expected, &eventID, &d.OpenEvents, &state); err != nil {
			return nil, fmt.Errorf("list projection drift in %d-%d: %w", r.Min, r.Max, err)
		}
		d.EventID, d.EventState = eventID.V, string(state.V)
		d.Cause = ClassifyDrift(d.SiteStatus, d.Expected, d.EventState, d.OpenEvents)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projection drift in %d-%d: %w", r.Min, r.Max, err)
	}
	return out, nil
}

func checkDriftRange(r uptime.BucketRange) error {
	if r.Min < 0 || r.Max < r.Min {
		return fmt.Errorf("projection drift: invalid bucket range %d-%d", r.Min, r.Max)
	}
	return nil
}

// DriftReader reads projection drift through DriftCount, DriftSummary and
// DriftRows. It never writes.
type DriftReader struct{ db *sql.DB }

// NewDriftReader returns a DriftReader on db (a pool from Open with the
// schema applied). It does no I/O.
func NewDriftReader(db *sql.DB) (*DriftReader, error) {
	if db == nil {
		return nil, errors.New("new drift reader: nil db")
	}
	return &DriftReader{db: db}, nil
}

// Count is DriftCount.
func (d *DriftReader) Count(ctx context.Context, r uptime.BucketRange) (int, error) {
	return DriftCount(ctx, d.db, r)
}

// Summary is DriftSummary.
func (d *DriftReader) Summary(ctx context.Context, r uptime.BucketRange) ([]DriftGroup, error) {
	return DriftSummary(ctx, d.db, r)
}

// Rows is DriftRows.
func (d *DriftReader) Rows(ctx context.Context, r uptime.BucketRange, limit int) ([]DriftRow, error) {
	return DriftRows(ctx, d.db, r, limit)
}
