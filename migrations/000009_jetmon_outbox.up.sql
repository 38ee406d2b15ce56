-- Transitions committed but not yet published to JetStream. The coordinator
-- inserts a row in the event transaction; the relay publishes it (Nats-Msg-Id
-- transition-<transition_id>) and deletes it.
CREATE TABLE jetmon_outbox (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    transition_id BIGINT UNSIGNED NOT NULL,
    subject       VARCHAR(255) NOT NULL,
    payload       JSON NOT NULL,
    created_at    DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uk_transition_id (transition_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
