-- Delivery claims and bookkeeping for the JetStream deliverers. A deliverer
-- claims a row (claimed_by, claim_until) with a conditional UPDATE whose
-- RowsAffected must be 1 before it sends, so two deliverers that receive the
-- same job never both send it; a claim left by a crashed deliverer expires at
-- claim_until. generation counts manual retries and is part of the job's
-- Nats-Msg-Id, so a retry is not swallowed by the duplicate window.
-- transition_at is when the transition reached JetStream (just after its
-- commit), the start of the commit-to-delivered latency.
ALTER TABLE jetmon_deliveries
    ADD COLUMN claimed_by    VARCHAR(128) NULL AFTER next_attempt_at,
    ADD COLUMN claim_until   DATETIME(3) NULL AFTER claimed_by,
    ADD COLUMN generation    INT UNSIGNED NOT NULL DEFAULT 0 AFTER claim_until,
    ADD COLUMN transition_at DATETIME(3) NULL AFTER generation
