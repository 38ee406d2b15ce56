-- Per-site hourly aggregates of every check (successes included), for stats
-- over long windows. Upserted with ON DUPLICATE KEY UPDATE x = x + VALUES(x).
-- hour is the UTC start of the hour. The rtt_* and phase sums cover the
-- rtt_samples checks that reported an RTT.
CREATE TABLE jetmon_check_rollups_hourly (
    blog_id     BIGINT UNSIGNED NOT NULL,
    hour        DATETIME NOT NULL,
    checks      INT UNSIGNED NOT NULL DEFAULT 0,
    failures    INT UNSIGNED NOT NULL DEFAULT 0,
    rtt_samples INT UNSIGNED NOT NULL DEFAULT 0,
    sum_rtt_ms  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    min_rtt_ms  INT UNSIGNED NULL,
    max_rtt_ms  INT UNSIGNED NULL,
    sum_dns_ms  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    sum_tcp_ms  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    sum_tls_ms  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    sum_ttfb_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,
    updated_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                    ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (blog_id, hour),
    KEY idx_hour (hour)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
