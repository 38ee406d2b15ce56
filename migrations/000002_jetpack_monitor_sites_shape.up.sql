-- Not DDL: a probe that fails with "Unknown column" when an existing legacy
-- table (kept by 000001's IF NOT EXISTS) lacks a column the mesh reads or
-- writes. On a fresh database it reads nothing and succeeds. After a failure
-- the schema version is left dirty at 2: add the missing columns by hand
-- (same definitions as 000001), force version 1, and migrate again.
SELECT
    jetpack_monitor_site_id, blog_id, bucket_no, monitor_url, monitor_active,
    site_status, last_status_change, check_interval, ssl_expiry_date,
    check_keyword, forbidden_keywords, maintenance_start, maintenance_end,
    custom_headers, timeout_seconds, redirect_policy, alert_cooldown_minutes,
    last_checked_at, last_alert_sent_at, created_at, updated_at
FROM jetpack_monitor_sites
LIMIT 0
