-- Stored API responses for Idempotency-Key replay, shared by every API
-- process. idem_key compares byte-exactly. request_hash is the hex SHA-256 of
-- the raw request body. status 0 marks a first request still in flight.
CREATE TABLE jetmon_idempotency_keys (
    api_key_id   BIGINT UNSIGNED NOT NULL,
    idem_key     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status       SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'HTTP status of the stored response',
    headers      JSON NULL,
    body         MEDIUMBLOB NULL,
    created_at   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    expires_at   DATETIME(3) NOT NULL,
    PRIMARY KEY (api_key_id, idem_key),
    KEY idx_expires_at (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
