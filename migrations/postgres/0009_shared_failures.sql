-- Failed client authentications, shared by every node on this database so the
-- token endpoint's failed-attempt limits hold across nodes. A row is one failure
-- of one key (a client id or a source address) and lives until `expires_at`;
-- at most the limit's number of rows are kept per key. Written only when an
-- authentication fails, never on success. Unlogged: after a crash the table is
-- emptied, which only forgets failures.
CREATE UNLOGGED TABLE auth_failures (
    key TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_failures_by_key ON auth_failures (key, expires_at);
CREATE INDEX auth_failures_by_expiry ON auth_failures (expires_at);
