-- Tenant names are unique (issue 15.16). A database may already hold tenants of
-- one name: the oldest keeps it, every later one gets its id appended, as
-- "Acme (0b6f…)", which is unique since ids are (a long name is cut to 161
-- characters first, so the result stays within the 200 a name may have). The index then holds the rule
-- for every insert and rename, also under concurrent requests.
UPDATE tenants SET name = substr(name, 1, 161) || ' (' || id || ')'
WHERE EXISTS (
    SELECT 1 FROM tenants o
    WHERE o.name = tenants.name
      AND (o.created_at < tenants.created_at OR (o.created_at = tenants.created_at AND o.id < tenants.id))
);

CREATE UNIQUE INDEX tenants_name_unique ON tenants (name);
