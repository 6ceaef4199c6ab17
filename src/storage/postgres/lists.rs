//! PostgreSQL: the filtered secret lists (a client's secrets and the tenant-wide
//! inventory), built with the shared `WHERE` clauses of [`crate::storage::filters`].

use chrono::Utc;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::secret_from_row;
use crate::domain::ids::TenantId;
use crate::domain::summary::{SecretSummary, SummaryWindows};
use crate::storage::filters::{push_secret_filter, push_summary_columns, summary_from_row};
use crate::storage::rows::{self, secret_columns};
use crate::storage::{Page, Paged, SecretFilter, SecretRecord, StorageError, TenantSecret};

pub(super) async fn list_secrets(
    pool: &PgPool,
    client_pk: i64,
    filter: &SecretFilter,
    page: Page,
) -> Result<Paged<SecretRecord>, StorageError> {
    let now = filter.now.unwrap_or_else(Utc::now);
    let scoped = |select: &str| {
        let mut qb = QueryBuilder::<Postgres>::new(select);
        qb.push(" FROM secrets s WHERE s.revoked_at IS NULL AND s.client_pk = ");
        qb.push_bind(client_pk);
        push_secret_filter(&mut qb, filter, now);
        qb
    };
    let mut select = scoped(concat!("SELECT ", secret_columns!("s.")));
    select.push(" ORDER BY s.id LIMIT ");
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
            .map(secret_from_row)
            .collect::<Result<_, _>>()?,
        total: total.unsigned_abs(),
    })
}

pub(super) async fn list_tenant_secrets(
    pool: &PgPool,
    tenant: &TenantId,
    filter: &SecretFilter,
    page: Page,
) -> Result<Paged<TenantSecret>, StorageError> {
    let now = filter.now.unwrap_or_else(Utc::now);
    let scoped = |select: &str| {
        let mut qb = QueryBuilder::<Postgres>::new(select);
        qb.push(
            " FROM secrets s JOIN clients c ON c.pk = s.client_pk \
             WHERE s.revoked_at IS NULL AND c.tenant_id = ",
        );
        qb.push_bind(tenant.as_uuid());
        push_secret_filter(&mut qb, filter, now);
        qb
    };
    let mut select = scoped(concat!(
        "SELECT c.kind AS client_kind, c.id AS client_id, ",
        secret_columns!("s.")
    ));
    // Byte order, as SQLite sorts, whatever the database's collation.
    select.push(" ORDER BY c.kind, c.id COLLATE \"C\", s.id LIMIT ");
    select
        .push_bind(i64::from(page.count))
        .push(" OFFSET ")
        .push_bind(i64::from(page.skip));
    let found = select.build().fetch_all(pool).await?;
    let total: i64 = scoped("SELECT COUNT(*)")
        .build_query_scalar()
        .fetch_one(pool)
        .await?;
    let items = found
        .iter()
        .map(|row| {
            let kind: String = row.try_get("client_kind")?;
            Ok(TenantSecret {
                client_kind: rows::parse_kind(&kind)?,
                client_id: row.try_get("client_id")?,
                secret: secret_from_row(row)?,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(Paged {
        items,
        total: total.unsigned_abs(),
    })
}

pub(super) async fn secret_summary(
    pool: &PgPool,
    tenant: &TenantId,
    windows: &SummaryWindows,
) -> Result<SecretSummary, StorageError> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
    push_summary_columns(&mut qb, windows);
    qb.push(
        " FROM secrets s JOIN clients c ON c.pk = s.client_pk \
         WHERE s.revoked_at IS NULL AND c.tenant_id = ",
    );
    qb.push_bind(tenant.as_uuid());
    let row = qb.build().fetch_one(pool).await?;
    summary_from_row(&row)
}
