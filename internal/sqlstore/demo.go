package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ReplaceSites replaces every row of the given sites' blog ids with one
// active row each (URL, bucket, check interval in whole minutes, keyword).
// It is meant for demo and fixture data: it deletes rows.
func ReplaceSites(ctx context.Context, db *sql.DB, sites []uptime.Site) error {
	return WithTx(ctx, db, func(tx *sql.Tx) error {
		for _, s := range sites {
			if _, err := tx.ExecContext(ctx, `DELETE FROM jetpack_monitor_sites WHERE blog_id = ?`, s.BlogID); err != nil {
				return fmt.Errorf("replace site %d: %w", s.BlogID, err)
			}
			var keyword any
			if s.Spec.Keyword != "" {
				keyword = s.Spec.Keyword
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO jetpack_monitor_sites
				(blog_id, bucket_no, monitor_url, monitor_active, site_status, check_interval, check_keyword)
				VALUES (?, ?, ?, 1, 1, ?, ?)`,
				s.BlogID, s.Bucket, s.Spec.URL, int(s.CheckInterval.Minutes()), keyword)
			if err != nil {
				return fmt.Errorf("replace site %d: %w", s.BlogID, err)
			}
		}
		return nil
	})
}
