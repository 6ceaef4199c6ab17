-- Token signing keys (issue 3). `slot` is 'current' for the key that signs;
-- its uniqueness lets concurrent nodes race to create the first key safely.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    slot               TEXT UNIQUE,
    algorithm          TEXT NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    public_jwk         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL
);
