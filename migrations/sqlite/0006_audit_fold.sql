-- Refused attempts are folded: identical refusals of one minute are one
-- row whose `occurrences` counts them, and past audit.refusalsPerTenantPerMinute a
-- tenant's minute gets one overflow row counting the rest. `fold_key` names the
-- row a refusal folds into (a digest; NULL for every other entry, and NULLs never
-- conflict), so the fold is one upsert however many refusals arrive at once.
ALTER TABLE audit_events ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN fold_key TEXT;
CREATE UNIQUE INDEX audit_by_fold_key ON audit_events (fold_key);
