-- One-time reveals of the console (issue 15.9): a secret value shown once is
-- kept here, sealed under the master key, between the POST that created it and
-- the GET that shows it (post/redirect/get). The GET deletes the row as it reads
-- it, so a reload or a second node cannot show the value again. Rows belong to
-- one session (gone with it) and expire after a few minutes.
CREATE TABLE console_reveals (
    id           TEXT        PRIMARY KEY,
    session_hash BYTEA       NOT NULL REFERENCES console_sessions(token_hash) ON DELETE CASCADE,
    sealed       BYTEA       NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX console_reveals_by_expiry ON console_reveals (expires_at);
