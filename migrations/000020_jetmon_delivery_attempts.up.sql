-- One row per delivery attempt, kept across manual retries (the delivery row
-- holds only the last outcome). The row is inserted as 'sending' when the
-- claim is taken and finished after the send; one left 'sending' is an
-- attempt whose deliverer died. Alert-contact rate caps (max_per_hour across
-- every deliverer) count these rows by (kind, destination_id, started_at).
CREATE TABLE jetmon_delivery_attempts (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    delivery_id     BIGINT UNSIGNED NOT NULL,
    kind            ENUM('webhook', 'alert', 'wpcom') NOT NULL,
    destination_id  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    attempt         SMALLINT UNSIGNED NOT NULL,
    node_id         VARCHAR(128) NOT NULL DEFAULT '',
    outcome         ENUM('sending', 'delivered', 'retry', 'abandoned', 'rate_limited', 'deferred')
                        NOT NULL DEFAULT 'sending',
    status_code     SMALLINT UNSIGNED NULL,
    response        VARCHAR(2048) NULL,
    error           VARCHAR(1024) NULL,
    next_attempt_at DATETIME(3) NULL,
    started_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    finished_at     DATETIME(3) NULL,
    PRIMARY KEY (id),
    KEY idx_delivery_attempt (delivery_id, attempt),
    KEY idx_kind_destination_started (kind, destination_id, started_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
