-- Fencing: one row per lease name holding the newest leader epoch (the NATS
-- KV lease revision). A new leader raises epoch; every event transaction
-- first checks, under SELECT ... FOR UPDATE, that the row still holds its
-- epoch, so a deposed leader can no longer commit.
CREATE TABLE jetmon_coordinator_lease (
    name       VARCHAR(64) NOT NULL,
    epoch      BIGINT UNSIGNED NOT NULL,
    holder     VARCHAR(255) NOT NULL,
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                   ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
