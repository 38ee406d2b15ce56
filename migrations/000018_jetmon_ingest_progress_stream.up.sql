-- The identity of the JETMON_RESULTS stream a watermark belongs to (its
-- creation time). Stream sequences restart when the stream is recreated (a new
-- NATS cluster, a wiped store); a watermark from the old stream would then
-- skip the new stream's first results as already committed, so the leader
-- resets the watermark when the identity differs.
ALTER TABLE jetmon_ingest_progress
    ADD COLUMN stream_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT ''
