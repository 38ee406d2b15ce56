-- Idempotency keys are scoped by API key, method and path (Jetmon v2 scoped
-- them by API key only, so reusing a key on another route replayed the wrong
-- action). path is the request path with its ids, e.g.
-- /api/v1/sites/42/pause.
ALTER TABLE jetmon_idempotency_keys
    ADD COLUMN method VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '' AFTER api_key_id,
    ADD COLUMN path   VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '' AFTER method,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (api_key_id, method, path, idem_key)
