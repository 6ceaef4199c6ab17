//! Tenants: created, listed, renamed and deleted by platform administrators.
//! Names are unique (the database's index holds it, also under concurrent
//! requests): a taken name is [`ServiceError::DuplicateTenant`].

use std::sync::Arc;

use super::journal::{self, Target};
use super::{Caller, Context, ServiceError};
use crate::domain::access::Action;
use crate::domain::audit_actions::AuditAction;
use crate::domain::client::validate_name;
use crate::domain::ids::TenantId;
use crate::domain::policy::TenantPolicy;
use crate::storage::{Journal, Page, Paged, StorageError, TenantRecord};

#[derive(Clone)]
pub struct Tenants {
    ctx: Arc<Context>,
}

impl Tenants {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    pub async fn create(&self, caller: &Caller, name: &str) -> Result<TenantRecord, ServiceError> {
        self.require_platform(caller, None, AuditAction::TenantCreate)
            .await?;
        validate_name(name)?;
        let now = self.ctx.clock.now();
        let tenant = TenantRecord {
            id: TenantId::generate(),
            name: name.trim().to_owned(),
            policy: TenantPolicy::default(),
            created_at: now,
        };
        let journal = Journal::new(journal::entry(
            caller,
            Some(tenant.id),
            AuditAction::TenantCreate,
            now,
        ));
        self.ctx
            .store
            .insert_tenant(&tenant, &journal)
            .await
            .map_err(|e| match e {
                StorageError::Duplicate => ServiceError::DuplicateTenant,
                e => e.into(),
            })?;
        tracing::info!(tenant.id = %tenant.id, "created tenant {}", tenant.id);
        Ok(tenant)
    }

    /// Gives the tenant a new name (audited as `tenant.rename`, old and new name).
    /// Renames the tenant; `None` keeps the name (still checking that the caller
    /// may rename it).
    pub async fn rename(
        &self,
        caller: &Caller,
        id: &TenantId,
        name: Option<&str>,
    ) -> Result<TenantRecord, ServiceError> {
        self.require_platform(caller, Some(*id), AuditAction::TenantRename)
            .await?;
        let old = self
            .ctx
            .store
            .get_tenant(id)
            .await?
            .ok_or(ServiceError::TenantNotFound)?;
        // Absent, or the name it has: nothing changes and nothing is recorded.
        let Some(name) = name.map(str::trim).filter(|n| *n != old.name) else {
            return Ok(old);
        };
        validate_name(name)?;
        let mut entry = journal::entry(
            caller,
            Some(*id),
            AuditAction::TenantRename,
            self.ctx.clock.now(),
        );
        entry.reason = Some(format!("Name: {} → {name}", old.name));
        match self
            .ctx
            .store
            .rename_tenant(id, name, &Journal::new(entry))
            .await
        {
            Ok(tenant) => {
                tracing::info!(tenant.id = %id, "renamed tenant {id}");
                Ok(tenant)
            }
            Err(StorageError::NotFound) => Err(ServiceError::TenantNotFound),
            Err(StorageError::Duplicate) => Err(ServiceError::DuplicateTenant),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(
        &self,
        caller: &Caller,
        page: Page,
    ) -> Result<Paged<TenantRecord>, ServiceError> {
        self.require_platform(caller, None, AuditAction::TenantList)
            .await?;
        Ok(self.ctx.store.list_tenants(page).await?)
    }

    pub async fn get(&self, caller: &Caller, id: &TenantId) -> Result<TenantRecord, ServiceError> {
        caller.check(id, Action::ReadTenant)?;
        self.ctx
            .store
            .get_tenant(id)
            .await?
            .ok_or(ServiceError::TenantNotFound)
    }

    pub async fn delete(&self, caller: &Caller, id: &TenantId) -> Result<(), ServiceError> {
        self.require_platform(caller, Some(*id), AuditAction::TenantDelete)
            .await?;
        let journal = Journal::new(journal::entry(
            caller,
            Some(*id),
            AuditAction::TenantDelete,
            self.ctx.clock.now(),
        ));
        match self.ctx.store.delete_tenant(id, &journal).await {
            Ok(()) => {
                tracing::info!(tenant.id = %id, "deleted tenant {id}");
                Ok(())
            }
            Err(StorageError::NotFound) => Err(ServiceError::TenantNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// True when the tenant exists. Not a management read: the issuer's public
    /// documents (discovery) answer it for anyone.
    pub async fn exists(&self, id: &TenantId) -> Result<bool, ServiceError> {
        Ok(self.ctx.store.get_tenant(id).await?.is_some())
    }

    /// Managing tenants themselves is for platform administrators; anyone else
    /// is refused, and the refusal audited.
    async fn require_platform(
        &self,
        caller: &Caller,
        tenant: Option<TenantId>,
        action: AuditAction,
    ) -> Result<(), ServiceError> {
        if caller.may_manage_tenants() {
            return Ok(());
        }
        let entry = journal::entry(caller, tenant, action, self.ctx.clock.now());
        journal::record_refusal(
            &self.ctx,
            entry,
            Target::default(),
            "platform administrators only",
        )
        .await;
        Err(ServiceError::Forbidden)
    }

    /// Checks that the caller may do `action` in the tenant (a refusal is
    /// audited), then that it exists.
    pub(crate) async fn require(
        ctx: &Context,
        caller: &Caller,
        id: &TenantId,
        action: Action,
    ) -> Result<TenantRecord, ServiceError> {
        Self::require_about(ctx, caller, id, action, Target::default()).await
    }

    /// [`Self::require`] for an attempt on `target` (a client, a secret), which
    /// the audit entry of a refusal names.
    pub(crate) async fn require_about(
        ctx: &Context,
        caller: &Caller,
        id: &TenantId,
        action: Action,
        target: Target,
    ) -> Result<TenantRecord, ServiceError> {
        if let Err(e) = caller.check(id, action) {
            let entry = journal::entry(caller, Some(*id), action.into(), ctx.clock.now());
            journal::record_refusal(ctx, entry, target, "the caller's roles do not allow it").await;
            return Err(e);
        }
        ctx.store
            .get_tenant(id)
            .await?
            .ok_or(ServiceError::TenantNotFound)
    }
}
