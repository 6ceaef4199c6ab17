-- Finding a generated value's secret by its SHA-256 digest ("which secret is
-- this?" and leak reports): an index on the current and on the replaced hash.
CREATE INDEX secrets_by_hash ON secrets (hash);
CREATE INDEX secrets_by_previous_hash ON secrets (previous_hash);
