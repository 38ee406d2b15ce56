package eventstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// project writes site_status and last_status_change (the time of the
// blog's last HTTP change) of every blog an HTTP change touched, on every
// row of the blog whose value differs, keeping updated_at.
func (a *applier) project(ctx context.Context) error {
	if len(a.touched) == 0 {
		return nil
	}
	blogs := slices.Sorted(maps.Keys(a.touched))
	want, err := a.legacyStatus(ctx, blogs)
	if err != nil {
		return err
	}
	for _, blog := range blogs {
		status := want[blog]
		_, err := a.tx.ExecContext(ctx,
			`UPDATE jetpack_monitor_sites SET site_status = ?, last_status_change = ?, updated_at = updated_at
			 WHERE blog_id = ? AND site_status <> ?`,
			uint8(status), a.touched[blog].Truncate(time.Second), blog, uint8(status))
		if err != nil {
			return fmt.Errorf("project site_status of blog %d: %w", blog, err)
		}
	}
	return nil
}

// legacyStatus derives site_status of each blog from its open HTTP events,
// as the projection-drift report does: 2 when one is Down, else 0 when one
// is Seems Down, else 1.
func (a *applier) legacyStatus(ctx context.Context, blogs []int64) (map[int64]uptime.LegacyStatus, error) {
	out := make(map[int64]uptime.LegacyStatus, len(blogs))
	for _, blog := range blogs {
		out[blog] = uptime.LegacySiteRunning
	}
	for part := range slices.Chunk(blogs, inChunk) {
		if err := a.openHTTPStates(ctx, part, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openHTTPStates raises out[blog] for each open HTTP event of blogs.
func (a *applier) openHTTPStates(ctx context.Context, blogs []int64, out map[int64]uptime.LegacyStatus) error {
	in, args := inList(blogs)
	rows, err := a.tx.QueryContext(ctx, "SELECT blog_id, state FROM jetmon_events WHERE check_type = ? "+
		"AND ended_at IS NULL AND blog_id IN "+in, append([]any{uptime.CheckTypeHTTP}, args...)...)
	if err != nil {
		return fmt.Errorf("read open http events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var (
			blog  int64
			state string
		)
		if err := rows.Scan(&blog, &state); err != nil {
			return fmt.Errorf("read open http events: %w", err)
		}
		if s := legacyOf(uptime.State(state)); legacyRank(s) > legacyRank(out[blog]) {
			out[blog] = s
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read open http events: %w", err)
	}
	return nil
}

// legacyOf is the projection value of one open HTTP event's state.
func legacyOf(s uptime.State) uptime.LegacyStatus {
	switch s {
	case uptime.StateDown:
		return uptime.LegacySiteConfirmedDown
	case uptime.StateSeemsDown:
		return uptime.LegacySiteDown
	default:
		return uptime.LegacySiteRunning
	}
}

// legacyRank orders projection values: Down over Seems Down over running.
func legacyRank(s uptime.LegacyStatus) int {
	switch s {
	case uptime.LegacySiteConfirmedDown:
		return 2
	case uptime.LegacySiteDown:
		return 1
	default:
		return 0
	}
}

// alertsSent sets last_alert_sent_at of every row of each blog (NULL for a
// zero time), in blog_id order, keeping updated_at.
func (a *applier) alertsSent(ctx context.Context, sent map[int64]time.Time) error {
	for _, blog := range slices.Sorted(maps.Keys(sent)) {
		var at sql.NullTime
		if t := sent[blog]; !t.IsZero() {
			at = sql.NullTime{Time: t.UTC().Truncate(time.Second), Valid: true}
		}
		_, err := a.tx.ExecContext(ctx,
			"UPDATE jetpack_monitor_sites SET last_alert_sent_at = ?, updated_at = updated_at WHERE blog_id = ?",
			at, blog)
		if err != nil {
			return fmt.Errorf("set last_alert_sent_at of blog %d: %w", blog, err)
		}
	}
	return nil
}

// falsePositives inserts fps. A zero EventID becomes the event this call
// closed as false_alarm for the blog, or NULL without one; a zero At
// becomes the insert time.
func (a *applier) falsePositives(ctx context.Context, fps []uptime.FalsePositive) error {
	for _, fp := range fps {
		if fp.BlogID <= 0 {
			return fmt.Errorf("false positive of blog %d: blog id must be positive: %w", fp.BlogID, ErrInvalidChange)
		}
		eventID := sql.NullInt64{Int64: fp.EventID, Valid: fp.EventID > 0}
		if id, ok := a.falseAlarms[fp.BlogID]; ok && !eventID.Valid {
			eventID = sql.NullInt64{Int64: id, Valid: true}
		}
		var rtt, at any
		if fp.RTT > 0 {
			rtt = min(fp.RTT.Milliseconds(), math.MaxUint32)
		}
		if !fp.At.IsZero() {
			at = dbTime(fp.At)
		}
		_, err := a.tx.ExecContext(ctx,
			`INSERT INTO jetmon_false_positives (blog_id, event_id, http_code, error_code, rtt_ms, created_at)
			 VALUES (?, ?, ?, ?, ?, COALESCE(?, CURRENT_TIMESTAMP(3)))`,
			fp.BlogID, eventID, min(max(fp.HTTPCode, 0), math.MaxUint16),
			min(max(int(fp.ErrorCode), 0), math.MaxUint8), rtt, at)
		if err != nil {
			return fmt.Errorf("insert false positive of blog %d: %w", fp.BlogID, err)
		}
	}
	return nil
}
