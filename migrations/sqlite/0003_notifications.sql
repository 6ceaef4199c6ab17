-- Issue 4: secret policies, the audit trail, the event outbox, webhooks,
-- email recipients and the once-only expiry notices. Same shape as PostgreSQL's.

-- Tenant policy: unit + duration (NULL = the configured default) and an
-- optional maximum lifetime (unit + duration, NULL = none).
ALTER TABLE tenants ADD COLUMN policy_unit TEXT;
ALTER TABLE tenants ADD COLUMN policy_duration INTEGER;
ALTER TABLE tenants ADD COLUMN max_lifetime_unit TEXT;
ALTER TABLE tenants ADD COLUMN max_lifetime_duration INTEGER;
-- Client policy: NULL unit = use the tenant's rules.
ALTER TABLE clients ADD COLUMN policy_unit TEXT;
ALTER TABLE clients ADD COLUMN policy_duration INTEGER;

-- Append-only: no route updates or deletes a row, and no foreign key, so the
-- record outlives the tenant, client or secret it names.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT    NOT NULL,
    tenant_id    TEXT,
    actor_type   TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    reason       TEXT,
    client_kind  TEXT,
    client_id    TEXT,
    secret_id    INTEGER,
    source       TEXT,
    operation_id TEXT
);
CREATE INDEX audit_by_tenant_time ON audit_events (tenant_id, at, seq);

-- The outbox: one row per event, written in the same transaction as the change.
CREATE TABLE events (
    id         TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY NOT NULL,
    tenant_id             TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL,
    event_types           TEXT NOT NULL,  -- ",a,b," (empty list: ",*,")
    enabled               INTEGER NOT NULL,
    signing_secret_sealed BLOB NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id);

CREATE TABLE notification_recipients (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, email)
);

-- One delivery per event and channel (a webhook subscription, or email).
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    tenant_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
    webhook_id      TEXT    REFERENCES webhooks(id) ON DELETE CASCADE,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);

CREATE TABLE delivery_attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- Expiring/expired notices already raised: the primary key makes each notice
-- once per secret, threshold and expiration, across restarts and nodes.
CREATE TABLE secret_notices (
    client_pk  INTEGER NOT NULL REFERENCES clients(pk) ON DELETE CASCADE,
    secret_id  INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    expiration TEXT    NOT NULL,
    PRIMARY KEY (client_pk, secret_id, kind, expiration)
);
CREATE INDEX secrets_by_expiration ON secrets (expiration);
