-- Incident state: one row per incident, mutable while open, frozen once
-- ended_at is set. Written by the coordinator only, always together with one
-- jetmon_event_transitions row per mutation in the same transaction.
--
-- MySQL has no partial unique index, so dedup_key is the identity tuple while
-- the event is open and NULL once it is closed: at most one open event per
-- (blog_id, endpoint_id, check_type, discriminator), any number of closed
-- ones, and a new event for the same tuple may open as soon as the last one
-- closed.
CREATE TABLE jetmon_events (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    blog_id           BIGINT UNSIGNED NOT NULL,
    endpoint_id       BIGINT UNSIGNED NULL COMMENT 'NULL: the site itself',
    check_type        VARCHAR(64) NOT NULL,
    discriminator     VARCHAR(128) NULL,
    severity          TINYINT UNSIGNED NOT NULL,
    state             VARCHAR(32) NOT NULL,
    started_at        DATETIME(3) NOT NULL COMMENT 'first local failure, never moves',
    ended_at          DATETIME(3) NULL,
    resolution_reason VARCHAR(64) NULL,
    cause_event_id    BIGINT UNSIGNED NULL,
    metadata          JSON NULL,
    created_at        DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at        DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                          ON UPDATE CURRENT_TIMESTAMP(3),
    dedup_key         VARCHAR(255) GENERATED ALWAYS AS (
                          IF(ended_at IS NULL,
                             CONCAT_WS(':', blog_id, COALESCE(endpoint_id, 0), check_type,
                                       COALESCE(discriminator, '')),
                             NULL)
                      ) STORED,
    PRIMARY KEY (id),
    UNIQUE KEY uk_open_dedup (dedup_key),
    KEY idx_blog_id_started (blog_id, started_at),
    KEY idx_blog_id_active (blog_id, ended_at),
    KEY idx_check_type_started (check_type, started_at),
    KEY idx_cause_event_id (cause_event_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
