//! Clients: create (with their first secret), list, get, update, delete.

use std::sync::Arc;

use super::journal::{self, Target};
use super::lookup::{self, ClientRef};
use super::secret_requests::{NewSecretRequest, expiry_rules, prepare_secret};
use super::tenants::Tenants;
use super::{Caller, Context, ServiceError};
use crate::domain::access::Action;
use crate::domain::audit_actions::AuditAction;
use crate::domain::client::{ClientSettings, HybridSettings, LIFETIME_DEFAULT};
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::ids::{ClientId, ClientKind, SecretId, TenantId};
use crate::domain::policy::ClientPolicy;
use crate::domain::secret_hash::new_salt;
use crate::domain::secret_value::SecretValue;
use crate::storage::{
    ClientRecord, Journal, NewClient, NewSecret, Page, Paged, SecretRecord, StorageError,
};

/// Changes to a client's settings: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub access_token_lifetime: Option<u32>,
    pub tags: Option<Vec<String>>,
    pub role_ids: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// An empty string clears the URI.
    pub client_uri: Option<String>,
    /// An empty string clears the URI.
    pub logo_uri: Option<String>,
    pub allow_offline_access: Option<bool>,
    pub allow_access_tokens_via_browser: Option<bool>,
    pub allow_self_rotation: Option<bool>,
}

impl ClientPatch {
    fn apply(self, s: &mut ClientSettings) {
        if let Some(v) = self.name {
            s.name = v.trim().to_owned();
        }
        if let Some(v) = self.enabled {
            s.enabled = v;
        }
        if let Some(v) = self.access_token_lifetime {
            s.access_token_lifetime = v;
        }
        if let Some(v) = self.tags {
            s.tags = v;
        }
        if let Some(v) = self.role_ids {
            s.role_ids = v;
        }
        if let Some(v) = self.allow_self_rotation {
            s.allow_self_rotation = v;
        }
        if let Some(h) = s.hybrid.as_mut() {
            if let Some(v) = self.redirect_uris {
                h.redirect_uris = v;
            }
            if let Some(v) = self.post_logout_redirect_uris {
                h.post_logout_redirect_uris = v;
            }
            if let Some(v) = self.client_uri {
                h.client_uri = Some(v).filter(|u| !u.is_empty());
            }
            if let Some(v) = self.logo_uri {
                h.logo_uri = Some(v).filter(|u| !u.is_empty());
            }
            if let Some(v) = self.allow_offline_access {
                h.allow_offline_access = v;
            }
            if let Some(v) = self.allow_access_tokens_via_browser {
                h.allow_access_tokens_via_browser = v;
            }
        }
    }
}

/// A client to create: its id (generated when absent), settings and first secret.
#[derive(Debug, Clone, Default)]
pub struct NewClientRequest {
    pub id: Option<String>,
    pub settings: ClientPatch,
    pub first_secret: NewSecretRequest,
}

/// A created client, its first secret and that secret's value (shown once).
#[derive(Debug)]
pub struct CreatedClient {
    pub client: ClientRecord,
    pub secret: SecretRecord,
    pub value: SecretValue,
}

#[derive(Clone)]
pub struct Clients {
    ctx: Arc<Context>,
}

impl Clients {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        kind: ClientKind,
        req: NewClientRequest,
    ) -> Result<CreatedClient, ServiceError> {
        // A refusal names the kind and the requested id (when well-formed).
        let target = Target {
            client_kind: Some(kind),
            client_id: req
                .id
                .as_deref()
                .filter(|id| ClientId::parse(id).is_ok())
                .map(str::to_owned),
            secret_id: None,
        };
        let tenant_record =
            Tenants::require_about(&self.ctx, caller, tenant, Action::WriteClients, target).await?;
        let id = match req.id.as_deref() {
            Some(id) => ClientId::parse(id)?,
            None => ClientId::generate(),
        };
        let mut settings = ClientSettings {
            name: String::new(),
            enabled: true,
            access_token_lifetime: LIFETIME_DEFAULT,
            tags: Vec::new(),
            role_ids: Vec::new(),
            hybrid: (kind == ClientKind::Hybrid).then(HybridSettings::default),
            allow_self_rotation: false,
        };
        req.settings.apply(&mut settings);
        settings.validate()?;
        let now = self.ctx.clock.now();
        let argon_salt = new_salt()?;
        let rules = expiry_rules(&self.ctx, &tenant_record, &ClientPolicy::default(), now);
        let (first, value) = prepare_secret(&self.ctx, req.first_secret, &argon_salt, rules, now)
            .await
            .map_err(first_secret_fields)?;
        let new = NewClient {
            tenant_id: *tenant,
            id,
            kind,
            settings,
            argon_salt,
            now,
        };
        let journal = creation_journal(caller, &new, &first);
        let (client, secret) = self
            .ctx
            .store
            .insert_client_with_secret(&new, &first, self.ctx.limits.clients_max, &journal)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::TenantNotFound,
                StorageError::Duplicate => ServiceError::DuplicateClient,
                StorageError::LimitReached(max) => ServiceError::ClientLimitReached(max),
                e => e.into(),
            })?;
        tracing::info!(tenant.id = %tenant, client.id = %client.id, "created client {}", client.id);
        Ok(CreatedClient {
            client,
            secret,
            value,
        })
    }

    pub async fn list(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        kind: ClientKind,
        page: Page,
    ) -> Result<Paged<ClientRecord>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadClients).await?;
        Ok(self.ctx.store.list_clients(tenant, kind, page).await?)
    }

    pub async fn get(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        kind: ClientKind,
        id: &str,
    ) -> Result<ClientRecord, ServiceError> {
        let at = ClientRef {
            tenant,
            kind,
            client: id,
        };
        lookup::client(&self.ctx, caller, at, Action::ReadClients).await
    }

    pub async fn update(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        kind: ClientKind,
        id: &str,
        patch: ClientPatch,
    ) -> Result<ClientRecord, ServiceError> {
        let at = ClientRef {
            tenant,
            kind,
            client: id,
        };
        let client = lookup::client(&self.ctx, caller, at, Action::WriteClients).await?;
        let mut settings = client.settings.clone();
        patch.apply(&mut settings);
        settings.validate()?;
        let now = self.ctx.clock.now();
        let mut journal = journal::client_journal(caller, &client, AuditAction::ClientUpdate, now);
        journal.audit.reason = Some(
            client
                .settings
                .changes(&settings)
                .unwrap_or_else(|| "nothing changed".to_owned()),
        );
        let updated = self
            .ctx
            .store
            .update_client(client.pk, &settings, now, &journal)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::ClientNotFound,
                e => e.into(),
            })?;
        tracing::info!(tenant.id = %tenant, client.id = %updated.id, "updated client {}", updated.id);
        Ok(updated)
    }

    pub async fn delete(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        kind: ClientKind,
        id: &str,
    ) -> Result<(), ServiceError> {
        let at = ClientRef {
            tenant,
            kind,
            client: id,
        };
        let client = lookup::client(&self.ctx, caller, at, Action::WriteClients).await?;
        // Its secrets die with it: subscribers hear `secret.revoked` for each live one.
        let journal = journal::client_journal(
            caller,
            &client,
            AuditAction::ClientRevoke,
            self.ctx.clock.now(),
        )
        .revoking_client_secrets();
        match self
            .ctx
            .store
            .delete_client(tenant, kind, &client.id, &journal)
            .await
        {
            Ok(()) => {
                tracing::info!(tenant.id = %tenant, client.id = %client.id, "deleted client {}", client.id);
                Ok(())
            }
            Err(StorageError::NotFound) => Err(ServiceError::ClientNotFound),
            Err(e) => Err(e.into()),
        }
    }
}

/// The journal of a client's creation: the audit entry, and the first secret's
/// `secret.created` event.
fn creation_journal(caller: &Caller, new: &NewClient, first: &NewSecret) -> Journal {
    let mut entry = journal::entry(
        caller,
        Some(new.tenant_id),
        AuditAction::ClientCreate,
        new.now,
    );
    entry.client_kind = Some(new.kind);
    entry.client_id = Some(new.id.to_string());
    entry.secret_id = Some(SecretId(1));
    let subject = SecretSubject {
        tenant: new.tenant_id,
        client_kind: new.kind,
        client_id: new.id.to_string(),
        secret_id: SecretId(1),
        description: first.description.clone(),
        hint: first.hint.clone(),
        expiration: first.expiration,
    };
    let event =
        Event::new(EventType::Created, subject, new.now).by(&entry.actor_type, &entry.actor);
    Journal::new(entry).with_event(event)
}

/// Names first-secret problems by the client request's own fields.
fn first_secret_fields(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Invalid(mut v) => {
            v.field = match v.field {
                "Expiration" => "SecretExpirationDate",
                "Expires" => "SecretExpires",
                "Description" => "SecretDescription",
                other => other,
            };
            ServiceError::Invalid(v)
        }
        other => other,
    }
}
