-- Refused presentations of values that worked once (replaced after any grace,
-- revoked, expired): counted per secret, coalesced in memory and added here in
-- batches; `refused_event_at` is when the last `secret.refused-use` event was
-- raised (at most one per secret and hour, across nodes). `previous_last_used_at`:
-- the last use of the value a Renew replaced, since that Renew (NULL: not used).
ALTER TABLE secrets ADD COLUMN refused_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE secrets ADD COLUMN last_refused_at TIMESTAMPTZ;
ALTER TABLE secrets ADD COLUMN last_refused_from TEXT;
ALTER TABLE secrets ADD COLUMN refused_event_at TIMESTAMPTZ;
ALTER TABLE secrets ADD COLUMN previous_last_used_at TIMESTAMPTZ;
