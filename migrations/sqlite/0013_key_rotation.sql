-- Signing-key rotation (issue 14). A key's state follows from these columns and
-- the time (rules in src/domain/signing_keys.rs): `activates_at` is when it starts
-- signing (and its predecessor retires), `revoked_at` withdraws it at once
-- (emergency rotation). `generation` numbers the keys; its uniqueness makes
-- concurrent rotations from any number of nodes produce exactly one new key.
-- The one key that existed before is generation 1, active since it was created.
ALTER TABLE signing_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE signing_keys ADD COLUMN activates_at TEXT;
ALTER TABLE signing_keys ADD COLUMN revoked_at TEXT;
UPDATE signing_keys SET activates_at = created_at;
CREATE UNIQUE INDEX signing_keys_generation ON signing_keys (generation);
