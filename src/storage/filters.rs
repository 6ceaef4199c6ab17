//! The `WHERE` clauses of filtered lists (secrets, the inventory, the audit
//! trail), written once for both SQL dialects with sqlx's `QueryBuilder`.
//! Callers push the part that differs (how a tenant id is bound), then these.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::{SecretFilter, SecretStatusFilter};
use crate::domain::audit::AuditFilter;

/// Appends ` AND …` for each secret filter; secrets are aliased `s`.
pub fn push_secret_filter<DB>(qb: &mut QueryBuilder<DB>, f: &SecretFilter, now: DateTime<Utc>)
where
    DB: Database,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    match f.status {
        Some(SecretStatusFilter::Active) => {
            qb.push(" AND (s.expiration IS NULL OR s.expiration > ");
            qb.push_bind(now).push(")");
        }
        Some(SecretStatusFilter::Expired) => {
            qb.push(" AND s.expiration IS NOT NULL AND s.expiration <= ");
            qb.push_bind(now);
        }
        Some(SecretStatusFilter::Leaked) => {
            qb.push(
                " AND EXISTS (SELECT 1 FROM leak_reports l WHERE l.client_pk = s.client_pk \
                 AND l.secret_id = s.id AND l.digest = s.hash)",
            );
        }
        None => {}
    }
    if let Some(since) = f.refused_since {
        qb.push(" AND s.last_refused_at >= ");
        qb.push_bind(since);
    }
    if f.never_used {
        qb.push(" AND s.last_used_at IS NULL");
    }
    if let Some(since) = f.unused_since {
        qb.push(" AND COALESCE(s.last_used_at, s.created_at) < ");
        qb.push_bind(since);
    }
    if let Some(before) = f.expiring_before {
        qb.push(" AND s.expiration IS NOT NULL AND s.expiration > ");
        qb.push_bind(now);
        qb.push(" AND s.expiration <= ");
        qb.push_bind(before);
    }
    if let Some(text) = &f.text {
        qb.push(" AND LOWER(s.description) LIKE ");
        qb.push_bind(like_pattern(text));
        qb.push(" ESCAPE '\\'");
    }
}

/// Appends ` AND …` for each audit filter (columns of `audit_events`).
pub fn push_audit_filter<DB>(qb: &mut QueryBuilder<DB>, f: &AuditFilter)
where
    DB: Database,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    if let Some(client) = &f.client_id {
        qb.push(" AND client_id = ");
        qb.push_bind(client.clone());
    }
    if let Some(action) = &f.action {
        qb.push(" AND action = ");
        qb.push_bind(action.clone());
    }
    if let Some(from) = f.from {
        qb.push(" AND at >= ");
        qb.push_bind(from);
    }
    if let Some(to) = f.to {
        qb.push(" AND at < ");
        qb.push_bind(to);
    }
}

/// `%text%`, lower-cased, with `%`, `_` and `\` escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }
}
