-- Operational audit trail (what the monitor and the API did), never site
-- state history: that lives in jetmon_event_transitions.
CREATE TABLE jetmon_audit_log (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    blog_id    BIGINT UNSIGNED NULL,
    event_id   BIGINT UNSIGNED NULL,
    event_type VARCHAR(64) NOT NULL,
    source     VARCHAR(255) NOT NULL DEFAULT 'local',
    detail     VARCHAR(1024) NOT NULL DEFAULT '',
    metadata   JSON NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_blog_id_created (blog_id, created_at),
    KEY idx_event_id (event_id),
    KEY idx_event_type_created (event_type, created_at),
    KEY idx_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
