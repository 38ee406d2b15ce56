-- Append-only incident history: exactly one row per mutation of a
-- jetmon_events row, written in the same transaction. Replaying a site's rows
-- in id order reconstructs each event's severity and state.
CREATE TABLE jetmon_event_transitions (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_id        BIGINT UNSIGNED NOT NULL,
    blog_id         BIGINT UNSIGNED NOT NULL COMMENT 'denormalised from jetmon_events',
    severity_before TINYINT UNSIGNED NULL,
    severity_after  TINYINT UNSIGNED NULL,
    state_before    VARCHAR(32) NULL,
    state_after     VARCHAR(32) NULL,
    reason          VARCHAR(64) NOT NULL,
    source          VARCHAR(255) NOT NULL DEFAULT 'local',
    metadata        JSON NULL,
    changed_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_event_id_changed (event_id, changed_at),
    KEY idx_blog_id_changed (blog_id, changed_at),
    KEY idx_changed_at (changed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
