-- Core schema: tenants, clients, secrets (issue 2). Same shape as the SQLite one.
-- Counters on parent rows (client_count, active_secrets, next_secret_id) let a
-- conditional UPDATE, which locks the row, enforce limits and never-reused ids.
CREATE TABLE tenants (
    id           UUID        PRIMARY KEY,
    name         TEXT        NOT NULL,
    client_count INTEGER     NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE clients (
    pk                    BIGSERIAL   PRIMARY KEY,
    tenant_id             UUID        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                    TEXT        NOT NULL,
    kind                  TEXT        NOT NULL CHECK (kind IN ('client_credentials', 'hybrid')),
    name                  TEXT        NOT NULL,
    enabled               BOOLEAN     NOT NULL,
    access_token_lifetime INTEGER     NOT NULL,
    tags                  TEXT        NOT NULL,  -- JSON array of strings
    role_ids              TEXT        NOT NULL,  -- JSON array of strings
    hybrid                TEXT,                  -- JSON object, hybrid clients only
    argon_salt            BYTEA       NOT NULL,
    active_secrets        INTEGER     NOT NULL DEFAULT 0,
    next_secret_id        INTEGER     NOT NULL DEFAULT 1,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE INDEX clients_by_tenant_kind ON clients (tenant_id, kind, pk);

CREATE TABLE secrets (
    client_pk          BIGINT      NOT NULL REFERENCES clients(pk) ON DELETE CASCADE,
    id                 INTEGER     NOT NULL,
    description        TEXT        NOT NULL,
    expiration         TIMESTAMPTZ,
    hash_kind          TEXT        NOT NULL,
    hash               BYTEA       NOT NULL,
    hint               TEXT        NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    last_used_at       TIMESTAMPTZ,
    previous_hash_kind TEXT,
    previous_hash      BYTEA,
    grace_until        TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ,
    PRIMARY KEY (client_pk, id)
);
