//! The audit trail's reads, for tenant administrators and auditors. Entries are
//! written by the changes themselves (the service's `journal` module builds them).

use std::sync::Arc;

use super::tenants::Tenants;
use super::{Caller, Context, ServiceError};
use crate::domain::access::Action;
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::ids::TenantId;
use crate::storage::{Page, Paged};

/// The audit trail's query, for tenant administrators and auditors.
#[derive(Clone)]
pub struct Audit {
    ctx: Arc<Context>,
}

impl Audit {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    pub async fn list(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadAudit).await?;
        Ok(self.ctx.store.list_audit(tenant, filter, page).await?)
    }
}
