-- The result ingestion watermark: per durable consumer of JETMON_RESULTS, the
-- highest stream sequence whose batch is committed. Every ingest transaction
-- advances it with a compare-and-set from the sequence its batch starts at,
-- in the same transaction as the batch's rows, so a redelivered result (a
-- sequence at or below last_seq) is recognised and a batch is committed at
-- most once. Consumer names compare byte-exactly, as NATS names do.
CREATE TABLE jetmon_ingest_progress (
    consumer   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    last_seq   BIGINT UNSIGNED NOT NULL,
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                   ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (consumer)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
