-- One row per Seems Down event that verifiers did not confirm (false_alarm).
CREATE TABLE jetmon_false_positives (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    blog_id    BIGINT UNSIGNED NOT NULL,
    event_id   BIGINT UNSIGNED NULL,
    http_code  SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    error_code TINYINT UNSIGNED NOT NULL DEFAULT 0,
    rtt_ms     INT UNSIGNED NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_blog_id_created (blog_id, created_at),
    KEY idx_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
