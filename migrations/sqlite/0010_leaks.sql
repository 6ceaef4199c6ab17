-- Leaked values. Finding a generated value's secret by its SHA-256 digest
-- ("which secret is this?" and leak reports): an index on the current and on
-- the replaced hash. A tenant's leak policy (revoke or alert), the values
-- scanners reported (one row per value, so a report acts once), and the
-- scanner keys a platform administrator stored.
CREATE INDEX secrets_by_hash ON secrets (hash);
CREATE INDEX secrets_by_previous_hash ON secrets (previous_hash);

ALTER TABLE tenants ADD COLUMN leak_policy TEXT NOT NULL DEFAULT 'revoke';

CREATE TABLE leak_reports (
    digest      BLOB    PRIMARY KEY NOT NULL,
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    client_pk   INTEGER NOT NULL,
    secret_id   INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    reported_at TEXT    NOT NULL
);

CREATE TABLE scanner_keys (
    key_identifier TEXT    PRIMARY KEY NOT NULL,
    public_key     TEXT    NOT NULL,
    is_current     INTEGER NOT NULL
);
