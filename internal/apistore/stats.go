package apistore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Rollups returns blogID's hourly roll-ups with hour in [from, to), oldest
// first. Hours are UTC starts of the hour; from and to are used as given.
func (s *Store) Rollups(ctx context.Context, blogID int64, from, to time.Time) ([]uptime.HourlyRollup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT blog_id, hour, checks, failures, rtt_samples, sum_rtt_ms,
		min_rtt_ms, max_rtt_ms, sum_dns_ms, sum_tcp_ms, sum_tls_ms, sum_ttfb_ms
		FROM jetmon_check_rollups_hourly WHERE blog_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
		blogID, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("roll-ups of site %d: %w", blogID, err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.HourlyRollup
	for rows.Next() {
		var (
			r          uptime.HourlyRollup
			minR, maxR sql.NullInt64
		)
		if err := rows.Scan(&r.BlogID, &r.Hour, &r.Checks, &r.Failures, &r.RTTSamples, &r.SumRTTMs, &minR, &maxR,
			&r.SumDNSMs, &r.SumTCPMs, &r.SumTLSMs, &r.SumTTFBMs); err != nil {
			return nil, fmt.Errorf("roll-ups of site %d: scan: %w", blogID, err)
		}
		r.Hour = r.Hour.UTC()
		if minR.Valid {
			r.MinRTTMs = &minR.Int64
		}
		if maxR.Valid {
			r.MaxRTTMs = &maxR.Int64
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("roll-ups of site %d: %w", blogID, err)
	}
	return out, nil
}
