//! PostgreSQL: the audit trail and the event outbox, written inside the caller's
//! transaction so they commit or roll back with the change they record.

use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::events::Event;
use crate::domain::ids::TenantId;
use crate::storage::filters::push_audit_filter;
use crate::storage::rows::{self, audit_columns};
use crate::storage::{Journal, Page, Paged, StorageError};

/// Writes the journal's audit entry and event (with its deliveries).
pub(super) async fn write_journal(
    conn: &mut PgConnection,
    journal: &Journal,
) -> Result<(), StorageError> {
    insert_audit(conn, &journal.audit).await?;
    if let Some(event) = &journal.event {
        write_event(conn, event).await?;
    }
    Ok(())
}

pub(super) async fn insert_audit(
    conn: &mut PgConnection,
    e: &AuditEntry,
) -> Result<(), StorageError> {
    insert_audit_folded(conn, e, None).await.map(|_| ())
}

/// Inserts `e`; with a `fold_key` already stored, counts one more occurrence on that
/// row instead (a NULL key never conflicts). Returns the row's occurrences. The one
/// audit insert of this dialect: ordinary entries and folded refusals alike.
pub(super) async fn insert_audit_folded(
    conn: &mut PgConnection,
    e: &AuditEntry,
    fold_key: Option<&str>,
) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO audit_events (at, tenant_id, actor_type, actor, action, outcome, reason, \
         client_kind, client_id, secret_id, source, operation_id, occurrences, fold_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13) \
         ON CONFLICT (fold_key) DO UPDATE SET occurrences = audit_events.occurrences + 1 \
         RETURNING occurrences",
    )
    .bind(e.at)
    .bind(e.tenant.map(|t| t.as_uuid()))
    .bind(&e.actor_type)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(e.outcome.as_str())
    .bind(&e.reason)
    .bind(e.client_kind.map(|k| k.as_db()))
    .bind(&e.client_id)
    .bind(e.secret_id.map(|s| s.0))
    .bind(&e.source)
    .bind(e.operation_id)
    .bind(fold_key)
    .fetch_one(&mut *conn)
    .await?)
}

/// Inserts the event and one pending delivery per enabled subscription to its
/// type, plus one email delivery for expiry notices when the tenant has recipients.
pub(super) async fn write_event(
    conn: &mut PgConnection,
    event: &Event,
) -> Result<(), StorageError> {
    let tenant = event.subject.tenant.as_uuid();
    let id = event.id.to_string();
    sqlx::query(
        "INSERT INTO events (id, tenant_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(tenant)
    .bind(event.kind.as_str())
    .bind(event.payload().to_string())
    .bind(event.at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO deliveries (event_id, tenant_id, channel, webhook_id, state, attempts, \
         next_attempt_at, created_at) \
         SELECT $1, tenant_id, 'webhook', id, 'pending', 0, $2, $3 FROM webhooks \
         WHERE tenant_id = $4 AND enabled AND (event_types = ',*,' OR event_types LIKE $5)",
    )
    .bind(&id)
    .bind(event.at)
    .bind(event.at)
    .bind(tenant)
    .bind(rows::event_type_pattern(event.kind))
    .execute(&mut *conn)
    .await?;
    if event.kind.is_expiry_notice() {
        sqlx::query(
            "INSERT INTO deliveries (event_id, tenant_id, channel, state, attempts, \
             next_attempt_at, created_at) \
             SELECT $1, $2, 'email', 'pending', 0, $3, $4 \
             WHERE EXISTS (SELECT 1 FROM notification_recipients WHERE tenant_id = $5)",
        )
        .bind(&id)
        .bind(tenant)
        .bind(event.at)
        .bind(event.at)
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn list_audit(
    pool: &PgPool,
    tenant: &TenantId,
    filter: &AuditFilter,
    page: Page,
) -> Result<Paged<AuditEntry>, StorageError> {
    let scoped = |select: &str| {
        let mut qb = QueryBuilder::<Postgres>::new(select);
        qb.push(" FROM audit_events WHERE tenant_id = ");
        qb.push_bind(tenant.as_uuid());
        push_audit_filter(&mut qb, filter);
        qb
    };
    let mut select = scoped(concat!("SELECT ", audit_columns!("::text")));
    select.push(" ORDER BY at DESC, seq DESC LIMIT ");
    select
        .push_bind(i64::from(page.count))
        .push(" OFFSET ")
        .push_bind(i64::from(page.skip));
    let found = select.build().fetch_all(pool).await?;
    let total: i64 = scoped("SELECT COUNT(*)")
        .build_query_scalar()
        .fetch_one(pool)
        .await?;
    Ok(Paged {
        items: found
            .iter()
            .map(rows::audit_entry)
            .collect::<Result<_, _>>()?,
        total: total.unsigned_abs(),
    })
}
