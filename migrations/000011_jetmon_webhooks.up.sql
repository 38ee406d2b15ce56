-- Webhook registrations. secret is stored in plaintext because HMAC signing
-- needs it (Jetmon ADR-0003); handlers never select it. During a rotation
-- grace window deliveries are also signed with previous_secret until
-- previous_secret_expires_at. Filters are JSON allow-lists; NULL or empty
-- matches everything.
CREATE TABLE jetmon_webhooks (
    id                         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    url                        VARCHAR(2083) NOT NULL,
    active                     TINYINT UNSIGNED NOT NULL DEFAULT 1,
    owner_tenant_id            VARCHAR(128) NULL,
    events                     JSON NULL COMMENT 'JSON array of event types',
    site_filter                JSON NULL COMMENT '{"site_ids": [...]}',
    state_filter               JSON NULL COMMENT '{"states": [...]}',
    secret                     VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    secret_preview             VARCHAR(8) NOT NULL DEFAULT '',
    previous_secret            VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL,
    previous_secret_expires_at DATETIME(3) NULL,
    created_by                 VARCHAR(128) NOT NULL DEFAULT '',
    created_at                 DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at                 DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                   ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_active (active),
    KEY idx_owner_tenant_id (owner_tenant_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
