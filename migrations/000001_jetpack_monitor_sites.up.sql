-- The legacy Jetmon v1 site table, kept as the mesh's site configuration
-- table with its v1 column names. IF NOT EXISTS: a Jetmon v1/v2 database
-- already has it (000002 then checks that its shape is usable).
--
-- updated_at moves on every UPDATE that does not set it explicitly, which is
-- what the coordinator's incremental sync reads. Bookkeeping writes (the
-- legacy projection, last_checked_at, ssl_expiry_date, last_alert_sent_at)
-- must therefore SET updated_at = updated_at, or every check would look like
-- a configuration change.
CREATE TABLE IF NOT EXISTS jetpack_monitor_sites (
    jetpack_monitor_site_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    blog_id                 BIGINT UNSIGNED NOT NULL,
    bucket_no               SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    monitor_url             VARCHAR(2083) NOT NULL,
    monitor_active          TINYINT UNSIGNED NOT NULL DEFAULT 1,
    site_status             TINYINT UNSIGNED NOT NULL DEFAULT 1
        COMMENT 'legacy projection: 0 seems down, 1 running, 2 confirmed down',
    last_status_change      DATETIME NULL,
    check_interval          SMALLINT UNSIGNED NOT NULL DEFAULT 5 COMMENT 'minutes',
    ssl_expiry_date         DATE NULL,
    check_keyword           VARCHAR(500) NULL,
    forbidden_keywords      JSON NULL COMMENT 'JSON array of strings',
    maintenance_start       DATETIME NULL,
    maintenance_end         DATETIME NULL,
    custom_headers          JSON NULL COMMENT 'JSON object of header name to value',
    timeout_seconds         TINYINT UNSIGNED NULL COMMENT 'NULL: NET_COMMS_TIMEOUT',
    redirect_policy         ENUM('follow', 'alert', 'fail') NOT NULL DEFAULT 'follow',
    alert_cooldown_minutes  SMALLINT UNSIGNED NULL COMMENT 'NULL: ALERT_COOLDOWN_MINUTES',
    last_checked_at         DATETIME NULL,
    last_alert_sent_at      DATETIME NULL,
    created_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (jetpack_monitor_site_id),
    KEY idx_blog_id (blog_id),
    KEY idx_bucket_active (bucket_no, monitor_active),
    KEY idx_updated_at (updated_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
