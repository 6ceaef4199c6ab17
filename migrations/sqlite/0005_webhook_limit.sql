-- At most notifications.webhooks.maxPerTenant subscriptions per tenant.
-- A counter on the tenant row, like client_count: a conditional UPDATE enforces
-- the limit inside the inserting transaction, also under concurrent inserts.
ALTER TABLE tenants ADD COLUMN webhook_count INTEGER NOT NULL DEFAULT 0;
UPDATE tenants SET webhook_count =
    (SELECT COUNT(*) FROM webhooks WHERE webhooks.tenant_id = tenants.id);
