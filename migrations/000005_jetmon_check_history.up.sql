-- Raw check results: every failure and state change, and sampled successes.
-- Phase durations are NULL when the phase did not complete.
CREATE TABLE jetmon_check_history (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    blog_id        BIGINT UNSIGNED NOT NULL,
    checked_at     DATETIME(3) NOT NULL COMMENT 'when the check started',
    region         VARCHAR(64) NOT NULL DEFAULT '',
    node_id        VARCHAR(128) NOT NULL DEFAULT '',
    request_method VARCHAR(16) NOT NULL DEFAULT 'GET',
    success        TINYINT UNSIGNED NOT NULL,
    http_code      SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    error_code     TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'uptime.ErrorCode',
    keyword_rule   VARCHAR(16) NULL COMMENT 'required or forbidden, when error_code is keyword',
    rtt_ms         INT UNSIGNED NULL,
    dns_ms         INT UNSIGNED NULL,
    tcp_ms         INT UNSIGNED NULL,
    tls_ms         INT UNSIGNED NULL,
    ttfb_ms        INT UNSIGNED NULL,
    tls_version    SMALLINT UNSIGNED NULL COMMENT 'negotiated version code, e.g. 771 = TLS 1.2',
    cipher_suite   SMALLINT UNSIGNED NULL COMMENT 'negotiated cipher suite id',
    ssl_expires_at DATETIME NULL COMMENT 'leaf certificate NotAfter',
    PRIMARY KEY (id),
    KEY idx_blog_id_checked (blog_id, checked_at),
    KEY idx_checked_at (checked_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
