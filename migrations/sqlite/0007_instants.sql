-- Expirations past 9999-12-31T23:59:59Z were once accepted. SQLite
-- keeps instants as RFC 3339 text, and such a year is written with a sign
-- (`+262142-01-01T…`), which sorts before every four-digit year: the secret was
-- listed as expired, not active, while it still worked. They become the latest
-- expiration accepted now, which sorts in time order. (PostgreSQL's timestamptz
-- orders them correctly, so it needs no counterpart.)
UPDATE secrets
   SET expiration = '9999-12-31T23:59:59+00:00'
 WHERE expiration LIKE '+%';
