-- Tokens bound to the exact credential and changes to one secret that
-- never overwrite each other.
-- `credential` names the secret's current value, `previous_credential` the value a
-- Renew replaced (beside previous_hash); both are new random ids with every value,
-- so a re-created client or a reused numeric id never matches an old token.
-- `revision` grows with every change: a write applies only to the revision it read.
-- Existing values get fresh ids: tokens minted before this migration stop working.
ALTER TABLE secrets ADD COLUMN credential TEXT NOT NULL DEFAULT '';
ALTER TABLE secrets ADD COLUMN previous_credential TEXT;
ALTER TABLE secrets ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE secrets SET credential = lower(hex(randomblob(16)));
UPDATE secrets SET previous_credential = lower(hex(randomblob(16))) WHERE previous_hash IS NOT NULL;
