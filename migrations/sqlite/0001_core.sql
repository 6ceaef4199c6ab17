-- Core schema: tenants, clients, secrets (issue 2).
-- Counters on parent rows (client_count, active_secrets, next_secret_id) let a
-- conditional UPDATE enforce limits and never-reused ids inside one transaction.
CREATE TABLE tenants (
    id           TEXT    PRIMARY KEY NOT NULL,
    name         TEXT    NOT NULL,
    client_count INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT    NOT NULL
);

CREATE TABLE clients (
    pk                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                    TEXT    NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('client_credentials', 'hybrid')),
    name                  TEXT    NOT NULL,
    enabled               INTEGER NOT NULL,
    access_token_lifetime INTEGER NOT NULL,
    tags                  TEXT    NOT NULL,  -- JSON array of strings
    role_ids              TEXT    NOT NULL,  -- JSON array of strings
    hybrid                TEXT,              -- JSON object, hybrid clients only
    argon_salt            BLOB    NOT NULL,
    active_secrets        INTEGER NOT NULL DEFAULT 0,
    next_secret_id        INTEGER NOT NULL DEFAULT 1,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE INDEX clients_by_tenant_kind ON clients (tenant_id, kind, pk);

CREATE TABLE secrets (
    client_pk          INTEGER NOT NULL REFERENCES clients(pk) ON DELETE CASCADE,
    id                 INTEGER NOT NULL,
    description        TEXT    NOT NULL,
    expiration         TEXT,
    hash_kind          TEXT    NOT NULL,
    hash               BLOB    NOT NULL,
    hint               TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    last_used_at       TEXT,
    previous_hash_kind TEXT,
    previous_hash      BLOB,
    grace_until        TEXT,
    revoked_at         TEXT,
    PRIMARY KEY (client_pk, id)
);
