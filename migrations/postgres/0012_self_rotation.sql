-- Self-rotation: a client renews its own secret with a token that secret's value
-- issued. Off by default on both sides: the tenant's policy must allow it, and so
-- must the client.
ALTER TABLE tenants ADD COLUMN allow_self_rotation BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN allow_self_rotation BOOLEAN NOT NULL DEFAULT FALSE;
