package apistore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// createLockWait bounds the wait for a blog's create lock: another create
// of the same blog_id holds it for one short transaction.
const createLockWait = 5 * time.Second

// insertSite inserts a site row. Projection and bookkeeping columns keep
// their defaults (site_status 1): the API names none of them.
const insertSite = `INSERT INTO jetpack_monitor_sites
    (blog_id, bucket_no, monitor_url, monitor_active, check_interval, check_keyword, forbidden_keywords,
     custom_headers, timeout_seconds, redirect_policy, maintenance_start, maintenance_end, alert_cooldown_minutes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateSite inserts the site and, with a tenant, its jetmon_site_tenants
// row (source gateway) in the same transaction; api.ErrConflict when the
// blog_id has a row already (any tenant's: the blog_id is global).
//
// blog_id has no unique index (a legacy table may hold several rows of a
// blog), so creates of one blog_id are serialised by a MySQL advisory lock
// (GET_LOCK, which needs no privilege and does not depend on the isolation
// level) held around the existence check and the insert.
func (s *Store) CreateSite(ctx context.Context, c uptime.SiteConfig, t api.Tenant) (uptime.SiteConfig, error) {
	args, err := createArgs(c)
	if err != nil {
		return uptime.SiteConfig{}, fmt.Errorf("create site %d: %w", c.BlogID, err)
	}
	var out uptime.SiteConfig
	err = s.withBlogLock(ctx, c.BlogID, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = ?`, c.BlogID).
			Scan(&n); err != nil {
			return fmt.Errorf("check blog: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("blog %d has a site row: %w", c.BlogID, api.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, insertSite, args...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if t != "" {
			if err := mapTenant(ctx, tx, t, c.BlogID); err != nil {
				return err
			}
		}
		out, err = s.getSite(ctx, tx, c.BlogID, t)
		return err
	})
	if err != nil {
		return uptime.SiteConfig{}, fmt.Errorf("create site %d: %w", c.BlogID, err)
	}
	return out, nil
}

// withBlogLock runs fn in a transaction on one connection that holds the
// blog's create lock, and releases the lock after the commit or rollback.
func (s *Store) withBlogLock(ctx context.Context, blogID int64, fn func(*sql.Tx) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	defer func() { _ = conn.Close() }()
	name := "jetmon_site_create_" + strconv.FormatInt(blogID, 10)
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, name, int(createLockWait/time.Second)).Scan(&got); err != nil {
		return fmt.Errorf("lock blog %d: %w", blogID, err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("lock blog %d: another create of it did not finish within %v", blogID, createLockWait)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createLockWait)
		defer cancel()
		if _, rerr := conn.ExecContext(rctx, `DO RELEASE_LOCK(?)`, name); rerr != nil {
			// A session that may still hold the lock must not go back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin tx: %w", err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("rollback tx: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit tx: %w", err)
	}
	return nil
}

// createArgs are insertSite's values of c.
func createArgs(c uptime.SiteConfig) ([]any, error) {
	if c.BlogID <= 0 {
		return nil, fmt.Errorf("blog id %d: must be > 0", c.BlogID)
	}
	forbidden, err := stringsColumn(c.ForbiddenKeywords)
	if err != nil {
		return nil, err
	}
	headers, err := mapColumn(c.Headers)
	if err != nil {
		return nil, err
	}
	policy := c.RedirectPolicy
	if policy == "" {
		policy = uptime.RedirectFollow
	}
	var timeout, cooldown any
	if c.TimeoutSec > 0 {
		timeout = c.TimeoutSec
	}
	if c.AlertCooldownMin != nil {
		cooldown = *c.AlertCooldownMin
	}
	return []any{c.BlogID, c.Bucket, c.URL, c.Active, c.CheckIntervalMin, nullString(c.Keyword), forbidden,
		headers, timeout, string(policy), nullTime(c.MaintenanceStart), nullTime(c.MaintenanceEnd), cooldown}, nil
}

// mapTenant lets tenant t see blogID (source gateway); a mapping that
// exists already only has its updated_at moved. (Not ON DUPLICATE KEY
// UPDATE: MariaDB would want UPDATE on every inserted column.)
func mapTenant(ctx context.Context, tx *sql.Tx, t api.Tenant, blogID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO jetmon_site_tenants (tenant_id, blog_id, source) VALUES (?, ?, 'gateway')`,
		string(t), blogID)
	if isMySQLError(err, errDupEntry) {
		_, err = tx.ExecContext(ctx, `UPDATE jetmon_site_tenants SET updated_at = CURRENT_TIMESTAMP(3)
			WHERE tenant_id = ? AND blog_id = ?`, string(t), blogID)
	}
	if err != nil {
		return fmt.Errorf("map tenant %q: %w", t, err)
	}
	return nil
}
