-- Alert contacts (email, PagerDuty, Slack, Teams). destination is stored in
-- plaintext (the transport needs it) and never returned by the API.
-- min_severity is an uptime.Severity (4 = Down); max_per_hour 0 = unlimited.
CREATE TABLE jetmon_alert_contacts (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    label               VARCHAR(128) NOT NULL,
    active              TINYINT UNSIGNED NOT NULL DEFAULT 1,
    owner_tenant_id     VARCHAR(128) NULL,
    transport           ENUM('email', 'pagerduty', 'slack', 'teams') NOT NULL,
    destination         JSON NOT NULL,
    destination_preview VARCHAR(8) NOT NULL DEFAULT '',
    site_filter         JSON NULL COMMENT '{"site_ids": [...]}',
    min_severity        TINYINT UNSIGNED NOT NULL DEFAULT 4,
    max_per_hour        INT UNSIGNED NOT NULL DEFAULT 60,
    created_by          VARCHAR(128) NOT NULL DEFAULT '',
    created_at          DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at          DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                            ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_active (active),
    KEY idx_owner_tenant_id (owner_tenant_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
