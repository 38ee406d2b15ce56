-- One row per (kind, destination, transition): webhook and alert-contact
-- deliveries and legacy WPCOM notifications (destination_id 0). The unique
-- key makes fan-out idempotent across deliverers. payload is frozen at
-- fan-out. last_response holds at most 2048 characters of valid UTF-8.
CREATE TABLE jetmon_deliveries (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind             ENUM('webhook', 'alert', 'wpcom') NOT NULL,
    destination_id   BIGINT UNSIGNED NOT NULL DEFAULT 0,
    transition_id    BIGINT UNSIGNED NOT NULL,
    event_id         BIGINT UNSIGNED NOT NULL,
    blog_id          BIGINT UNSIGNED NOT NULL,
    event_type       VARCHAR(64) NOT NULL,
    severity         TINYINT UNSIGNED NULL,
    payload          JSON NOT NULL,
    status           ENUM('pending', 'delivered', 'failed', 'abandoned') NOT NULL DEFAULT 'pending',
    attempt          SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME(3) NULL,
    last_status_code SMALLINT UNSIGNED NULL,
    last_response    VARCHAR(2048) NULL,
    last_attempt_at  DATETIME(3) NULL,
    delivered_at     DATETIME(3) NULL,
    created_at       DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at       DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                         ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uk_kind_destination_transition (kind, destination_id, transition_id),
    KEY idx_status_next_attempt (status, next_attempt_at),
    KEY idx_kind_destination_created (kind, destination_id, created_at),
    KEY idx_event_id (event_id),
    KEY idx_status_delivered (status, delivered_at),
    KEY idx_status_last_attempt (status, last_attempt_at),
    KEY idx_status_created (status, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
