-- A re-sent delivery keeps the log of its earlier attempts: attempt numbers go
-- on, and the retry budget counts from `attempts_before_resend` (the attempts
-- made before the last re-send).
ALTER TABLE deliveries ADD COLUMN attempts_before_resend INTEGER NOT NULL DEFAULT 0;
