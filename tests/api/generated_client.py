"""Drives a Latchkey server through a client generated from its OpenAPI document.

Run by tests/api/generated_client.rs after `openapi-python-client generate` wrote the
package `latchkey_client` to a temporary directory on PYTHONPATH. Reads LATCHKEY_URL and
LATCHKEY_TOKEN; walks tenant -> client (both kinds) -> secret -> renew -> revoke with the
generated functions and models only, asserts what each answer holds, and prints one JSON
object with the ids and values the Rust side checks over plain HTTP. Any failed assertion
or parse error exits non-zero with a traceback.
"""

import json
import os

from latchkey_client import AuthenticatedClient
from latchkey_client.api.clients import (
    create_client_client_credential_clients,
    create_client_hybrid_clients,
    get_client_client_credential_clients,
    get_client_hybrid_clients,
)
from latchkey_client.api.policies import get_tenant_policy, put_tenant_policy
from latchkey_client.api.secrets import (
    add_secret_client_credential_clients,
    delete_secret_client_credential_clients,
    get_secret_client_credential_clients,
    list_secrets_client_credential_clients,
    renew_secret_client_credential_clients,
)
from latchkey_client.api.tenants import create_tenant, get_tenant
from latchkey_client.models import (
    ClientCredentialClient,
    ClientCredentialClientCreate,
    ClientCredentialClientCreated,
    ErrorResponse,
    HybridClient,
    HybridClientCreate,
    HybridClientCreated,
    RoleId,
    Secret,
    SecretCreate,
    SecretRenew,
    SecretStatus,
    SecretStatusFilter,
    SecretWithValue,
    Tenant,
    TenantCreate,
    TenantPolicyUpdate,
    TenantSecretPolicy,
    Unit,
)
from latchkey_client.types import UNSET

api = AuthenticatedClient(
    base_url=os.environ["LATCHKEY_URL"],
    token=os.environ["LATCHKEY_TOKEN"],
    raise_on_unexpected_status=True,
)

# Tenant.
tenant = create_tenant.sync(client=api, body=TenantCreate(name="Generated client"))
assert isinstance(tenant, Tenant), tenant
assert tenant.name == "Generated client"
assert get_tenant.sync(client=api, tenant_id=tenant.id).id == tenant.id

# The tenant's policy: the unit is an enum, the duration a number.
policy = put_tenant_policy.sync(
    client=api, tenant_id=tenant.id, body=TenantPolicyUpdate(unit=Unit.DAYS, duration=90)
)
assert isinstance(policy, TenantSecretPolicy), policy
assert policy.unit == Unit.DAYS and policy.duration == 90, policy
assert policy.maximum_lifetime is None
assert get_tenant_policy.sync(client=api, tenant_id=tenant.id).unit == Unit.DAYS

# A client-credentials client: no hybrid fields in its model.
created = create_client_client_credential_clients.sync(
    client=api,
    tenant_id=tenant.id,
    body=ClientCredentialClientCreate(
        name="Billing worker", id="billing-worker", role_ids=[RoleId.TENANT_MEMBER]
    ),
)
assert isinstance(created, ClientCredentialClientCreated), created
assert isinstance(created.client, ClientCredentialClient)
assert created.client.id == "billing-worker"
assert created.client.role_ids == [RoleId.TENANT_MEMBER]
assert not hasattr(created.client, "redirect_uris")
assert created.expires and created.expiration is not None
first_value = created.secret
fetched = get_client_client_credential_clients.sync(
    client=api, tenant_id=tenant.id, client_id="billing-worker"
)
assert isinstance(fetched, ClientCredentialClient), fetched
assert fetched.name == "Billing worker"

# A hybrid client: its hybrid fields are always there.
hybrid = create_client_hybrid_clients.sync(
    client=api,
    tenant_id=tenant.id,
    body=HybridClientCreate(name="Web app", redirect_uris=["https://app.example/callback"]),
)
assert isinstance(hybrid, HybridClientCreated), hybrid
assert isinstance(hybrid.client, HybridClient)
assert hybrid.client.redirect_uris == ["https://app.example/callback"]
assert hybrid.client.post_logout_redirect_uris == []
assert hybrid.client.client_uri is None
assert hybrid.client.allow_offline_access is False
again = get_client_hybrid_clients.sync(client=api, tenant_id=tenant.id, client_id=hybrid.client.id)
assert isinstance(again, HybridClient) and again.redirect_uris == hybrid.client.redirect_uris

# A second secret, then its metadata.
where = dict(client=api, tenant_id=tenant.id, client_id="billing-worker")
added = add_secret_client_credential_clients.sync(
    **where, body=SecretCreate(description="rotation target", expires=False)
)
assert isinstance(added, SecretWithValue), added
assert added.description == "rotation target"
assert added.expires is False and added.expiration is None
assert added.status == SecretStatus.ACTIVE
got = get_secret_client_credential_clients.sync(**where, secret_id=added.id)
assert isinstance(got, Secret), got
assert not hasattr(got, "secret"), "metadata never carries the value"
assert got.hint == added.hint
assert got.last_used_at is None and got.grace_until is None and got.refused_count == 0
active = list_secrets_client_credential_clients.sync(**where, status=SecretStatusFilter.ACTIVE)
assert sorted(s.id for s in active) == sorted([created.id, added.id]), active

# Renew: same id, a new value.
renewed = renew_secret_client_credential_clients.sync(
    **where, secret_id=added.id, body=SecretRenew(grace_period_seconds=60)
)
assert isinstance(renewed, SecretWithValue), renewed
assert renewed.id == added.id
assert renewed.secret != added.secret
assert renewed.grace_until is not None and renewed.grace_until is not UNSET

# Revoke, after which the secret is gone.
gone = delete_secret_client_credential_clients.sync_detailed(**where, secret_id=added.id)
assert gone.status_code == 204, gone
missing = get_secret_client_credential_clients.sync(**where, secret_id=added.id)
assert isinstance(missing, ErrorResponse), missing
assert missing.status == 404 and missing.error == "NotFound", missing

# Errors parse as ErrorResponse too.
stranger = AuthenticatedClient(base_url=api._base_url, token="not-a-token")
refused = get_tenant.sync(client=stranger, tenant_id=tenant.id)
assert isinstance(refused, ErrorResponse) and refused.status == 401, refused

print(
    json.dumps(
        {
            "tenant": tenant.id,
            "client": created.client.id,
            "hybrid": hybrid.client.id,
            "secret": added.id,
            "first_value": first_value,
            "renewed_value": renewed.secret,
        }
    )
)
