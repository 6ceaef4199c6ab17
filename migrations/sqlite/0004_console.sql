-- Console users, their tenant roles and their sessions (issue 5).
-- A session row holds only the SHA-256 of its cookie token, never the token.
CREATE TABLE console_users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    platform_admin INTEGER NOT NULL,
    created_at     TEXT    NOT NULL
);

CREATE TABLE console_user_roles (
    user_id   INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    tenant_id TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    role_id   TEXT    NOT NULL,
    PRIMARY KEY (user_id, tenant_id, role_id)
);

CREATE TABLE console_sessions (
    token_hash   BLOB    PRIMARY KEY NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL
);

CREATE INDEX console_sessions_by_last_seen ON console_sessions (last_seen_at);
