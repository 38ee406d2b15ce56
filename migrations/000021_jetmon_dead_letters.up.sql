-- JetStream messages the deliverers gave up on: malformed ones (terminated)
-- and ones that ran out of deliveries (the max-deliveries advisory). The
-- original message is copied here before it leaves JETMON_DELIVERY, so
-- nothing is lost silently. (stream, stream_seq) makes recording idempotent.
CREATE TABLE jetmon_dead_letters (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    stream       VARCHAR(64) NOT NULL,
    stream_seq   BIGINT UNSIGNED NOT NULL,
    consumer     VARCHAR(64) NOT NULL,
    subject      VARCHAR(255) NOT NULL,
    deliveries   INT UNSIGNED NOT NULL DEFAULT 0,
    reason       VARCHAR(1024) NOT NULL,
    delivery_id  BIGINT UNSIGNED NULL COMMENT 'the jetmon_deliveries row of a job, when known',
    headers      JSON NULL,
    payload      MEDIUMBLOB NOT NULL,
    published_at DATETIME(3) NULL,
    created_at   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uk_stream_seq (stream, stream_seq),
    KEY idx_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
