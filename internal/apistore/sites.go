package apistore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// maxSitePage bounds one ListSites call whatever the caller asks.
const maxSitePage = 1000

// ListSites returns the effective rows of the blogs after q.AfterBlogID in
// blog_id order, at most q.Limit (1 to 1000), filtered by monitor_active,
// a URL substring (matched literally) and the tenant's visibility.
func (s *Store) ListSites(ctx context.Context, q api.SiteQuery) ([]uptime.SiteConfig, error) {
	if q.Limit <= 0 || q.Limit > maxSitePage {
		return nil, fmt.Errorf("list sites: limit %d must be 1 to %d", q.Limit, maxSitePage)
	}
	query := `SELECT ` + siteColumns + ` FROM jetpack_monitor_sites s WHERE s.blog_id > ?`
	args := []any{q.AfterBlogID}
	if q.Active != nil {
		if *q.Active {
			query += ` AND s.monitor_active = 1`
		} else {
			query += ` AND s.monitor_active <> 1`
		}
	}
	if q.URLContains != "" {
		query += ` AND s.monitor_url LIKE ?`
		args = append(args, "%"+escapeLike(q.URLContains)+"%")
	}
	if q.Tenant != "" {
		query += ` AND ` + visibleTo
		args = append(args, string(q.Tenant))
	}
	query += ` AND ` + effectiveRow + ` ORDER BY s.blog_id LIMIT ?`
	out, err := s.querySites(ctx, s.db, query, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list sites after %d: %w", q.AfterBlogID, err)
	}
	return out, nil
}

// querySites runs a siteColumns query.
func (s *Store) querySites(ctx context.Context, q querier, query string, args ...any) ([]uptime.SiteConfig, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.SiteConfig
	for rows.Next() {
		var r siteRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("scan site: %w", err)
		}
		out = append(out, s.site(&r))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	return out, nil
}

// GetSite returns the blog's effective row, or api.ErrNotFound when it has
// none or the tenant may not see it.
func (s *Store) GetSite(ctx context.Context, blogID int64, t api.Tenant) (uptime.SiteConfig, error) {
	site, err := s.getSite(ctx, s.db, blogID, t)
	if err != nil {
		return uptime.SiteConfig{}, fmt.Errorf("get site %d: %w", blogID, err)
	}
	return site, nil
}

// getSite reads blogID's effective row on q.
func (s *Store) getSite(ctx context.Context, q querier, blogID int64, t api.Tenant) (uptime.SiteConfig, error) {
	query := `SELECT ` + siteColumns + ` FROM jetpack_monitor_sites s WHERE s.blog_id = ?`
	args := []any{blogID}
	if t != "" {
		query += ` AND ` + visibleTo
		args = append(args, string(t))
	}
	query += ` ORDER BY (s.monitor_active = 1) DESC, s.jetpack_monitor_site_id DESC LIMIT 1`
	sites, err := s.querySites(ctx, q, query, args...)
	if err != nil {
		return uptime.SiteConfig{}, err
	}
	if len(sites) == 0 {
		return uptime.SiteConfig{}, notFound("site %d", blogID)
	}
	return sites[0], nil
}

// UpdateSite applies p to every row of the blog (so whichever row is
// effective carries it) and moves their updated_at, which the coordinator's
// incremental sync reads. Active false deactivates every row; Active true
// activates the effective row when none is active. An empty patch returns
// the site unchanged. api.ErrNotFound when the blog has no row or the tenant
// may not see it. It never writes last_status_change, which is the
// coordinator's (see the package comment).
func (s *Store) UpdateSite(ctx context.Context, blogID int64, p api.SitePatch, t api.Tenant) (uptime.SiteConfig, error) {
	set, args, err := patchSet(p)
	if err != nil {
		return uptime.SiteConfig{}, fmt.Errorf("update site %d: %w", blogID, err)
	}
	var out uptime.SiteConfig
	err = sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		cur, err := s.getSite(ctx, tx, blogID, t)
		if err != nil {
			return err
		}
		activate := p.Active != nil && *p.Active && !cur.Active
		if len(set) == 0 && !activate {
			out = cur
			return nil
		}
		if len(set) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE jetpack_monitor_sites SET `+strings.Join(set, ", ")+
				`, updated_at = CURRENT_TIMESTAMP(3) WHERE blog_id = ?`, append(args, blogID)...); err != nil {
				return fmt.Errorf("update: %w", err)
			}
		}
		if activate {
			if err := activateNewest(ctx, tx, blogID); err != nil {
				return err
			}
		}
		out, err = s.getSite(ctx, tx, blogID, "")
		return err
	})
	if err != nil {
		return uptime.SiteConfig{}, fmt.Errorf("update site %d: %w", blogID, err)
	}
	return out, nil
}

// activateNewest activates the blog's newest row (its effective row while
// none is active).
func activateNewest(ctx context.Context, tx *sql.Tx, blogID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE jetpack_monitor_sites SET monitor_active = 1, updated_at = CURRENT_TIMESTAMP(3)
		WHERE blog_id = ? ORDER BY jetpack_monitor_site_id DESC LIMIT 1`, blogID)
	if err != nil {
		return fmt.Errorf("activate: %w", err)
	}
	return nil
}
