//! The lookups every client and secret use case starts with: is the caller
//! allowed, does the tenant exist, does the client exist. A refusal is audited
//! naming what the attempt was about.

use super::journal::Target;
use super::tenants::Tenants;
use super::{Caller, Context, ServiceError};
use crate::domain::access::Action;
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::storage::{ClientRecord, TenantRecord};

/// Where a client (and its secrets) lives: tenant, client kind and client id.
#[derive(Debug, Clone, Copy)]
pub struct ClientRef<'a> {
    pub tenant: &'a TenantId,
    pub kind: ClientKind,
    pub client: &'a str,
}

/// The tenant and the client `at` addresses, once the caller may do `action` there.
pub(crate) async fn tenant_client(
    ctx: &Context,
    caller: &Caller,
    at: ClientRef<'_>,
    action: Action,
) -> Result<(TenantRecord, ClientRecord), ServiceError> {
    find(ctx, caller, at, None, action).await
}

/// [`tenant_client`] for callers that need only the client.
pub(crate) async fn client(
    ctx: &Context,
    caller: &Caller,
    at: ClientRef<'_>,
    action: Action,
) -> Result<ClientRecord, ServiceError> {
    Ok(find(ctx, caller, at, None, action).await?.1)
}

/// [`tenant_client`] for an attempt on the client's secret `secret`: a refusal's
/// audit entry names the client and the secret.
pub(crate) async fn secret_client(
    ctx: &Context,
    caller: &Caller,
    at: ClientRef<'_>,
    secret: SecretId,
    action: Action,
) -> Result<(TenantRecord, ClientRecord), ServiceError> {
    find(ctx, caller, at, Some(secret), action).await
}

async fn find(
    ctx: &Context,
    caller: &Caller,
    at: ClientRef<'_>,
    secret: Option<SecretId>,
    action: Action,
) -> Result<(TenantRecord, ClientRecord), ServiceError> {
    let target = Target {
        client_kind: Some(at.kind),
        // Only a well-formed id: the path segment is the caller's, of any length.
        client_id: ClientId::parse(at.client)
            .ok()
            .map(|_| at.client.to_owned()),
        secret_id: secret,
    };
    let tenant = Tenants::require_about(ctx, caller, at.tenant, action, target).await?;
    let Ok(id) = ClientId::parse(at.client) else {
        return Err(ServiceError::ClientNotFound);
    };
    let client = ctx
        .store
        .get_client(at.tenant, at.kind, &id)
        .await?
        .ok_or(ServiceError::ClientNotFound)?;
    Ok((tenant, client))
}
