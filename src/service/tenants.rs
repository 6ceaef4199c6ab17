//! Tenants: created, listed and deleted by platform administrators.

use std::sync::Arc;

use super::{Caller, Context, ServiceError};
use crate::domain::access::Action;
use crate::domain::client::validate_name;
use crate::domain::ids::TenantId;
use crate::storage::{Page, Paged, StorageError, TenantRecord};

#[derive(Clone)]
pub struct Tenants {
    ctx: Arc<Context>,
}

impl Tenants {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    pub async fn create(&self, caller: &Caller, name: &str) -> Result<TenantRecord, ServiceError> {
        if !caller.may_manage_tenants() {
            return Err(ServiceError::Forbidden);
        }
        validate_name(name)?;
        let tenant = TenantRecord {
            id: TenantId::generate(),
            name: name.trim().to_owned(),
            created_at: self.ctx.clock.now(),
        };
        self.ctx.store.insert_tenant(&tenant).await?;
        tracing::info!(tenant.id = %tenant.id, "created tenant {}", tenant.id);
        Ok(tenant)
    }

    pub async fn list(
        &self,
        caller: &Caller,
        page: Page,
    ) -> Result<Paged<TenantRecord>, ServiceError> {
        if !caller.may_manage_tenants() {
            return Err(ServiceError::Forbidden);
        }
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
        if !caller.may_manage_tenants() {
            return Err(ServiceError::Forbidden);
        }
        match self.ctx.store.delete_tenant(id).await {
            Ok(()) => {
                tracing::info!(tenant.id = %id, "deleted tenant {id}");
                Ok(())
            }
            Err(StorageError::NotFound) => Err(ServiceError::TenantNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks that the caller may do `action` in the tenant, then that it exists.
    pub(crate) async fn require(
        ctx: &Context,
        caller: &Caller,
        id: &TenantId,
        action: Action,
    ) -> Result<(), ServiceError> {
        caller.check(id, action)?;
        match ctx.store.get_tenant(id).await? {
            Some(_) => Ok(()),
            None => Err(ServiceError::TenantNotFound),
        }
    }
}
