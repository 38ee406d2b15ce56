-- API keys. key_hash is the lower-case hex SHA-256 of the full raw token; the
-- token itself is never stored. expires_at and revoked_at are half-open
-- cutoffs (a future revoked_at is a rotation grace window).
CREATE TABLE jetmon_api_keys (
    id                    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    key_hash              CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    consumer_name         VARCHAR(128) NOT NULL,
    scope                 ENUM('read', 'write', 'admin') NOT NULL DEFAULT 'read',
    rate_limit_per_minute INT UNSIGNED NOT NULL DEFAULT 60,
    expires_at            DATETIME(3) NULL,
    revoked_at            DATETIME(3) NULL,
    last_used_at          DATETIME(3) NULL,
    created_by            VARCHAR(128) NOT NULL DEFAULT 'cli',
    created_at            DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uk_key_hash (key_hash),
    KEY idx_consumer (consumer_name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
