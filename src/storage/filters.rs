//! The `WHERE` clauses of filtered lists (secrets, the inventory, the audit
//! trail) and the columns of a tenant's secret summary, written once for both
//! SQL dialects with sqlx's `QueryBuilder`.
//! Callers push the part that differs (how a tenant id is bound), then these.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};

use super::{SecretFilter, SecretStatusFilter, StorageError};
use crate::domain::audit::AuditFilter;
use crate::domain::audit_actions::AuditAction;
use crate::domain::summary::{SecretSummary, SummaryWindows, WEEKS};

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

/// The columns of a tenant's [`SecretSummary`], secrets aliased `s` (read back by
/// [`summary_from_row`]); the caller adds `FROM` and the tenant.
pub fn push_summary_columns<DB>(qb: &mut QueryBuilder<DB>, w: &SummaryWindows)
where
    DB: Database,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
{
    let count = |qb: &mut QueryBuilder<DB>, name: &str, when: &dyn Fn(&mut QueryBuilder<DB>)| {
        qb.push("COALESCE(SUM(CASE WHEN ");
        when(qb);
        qb.push(" THEN 1 ELSE 0 END), 0) AS ");
        qb.push(name);
        qb.push(", ");
    };
    count(qb, "active", &|qb| {
        qb.push("(s.expiration IS NULL OR s.expiration > ");
        qb.push_bind(w.now).push(")");
    });
    count(qb, "expiring_soon", &|qb| {
        qb.push("s.expiration > ").push_bind(w.now);
        qb.push(" AND s.expiration <= ").push_bind(w.soon);
    });
    count(qb, "expiring_month", &|qb| {
        qb.push("s.expiration > ").push_bind(w.now);
        qb.push(" AND s.expiration <= ").push_bind(w.month);
    });
    count(qb, "expired", &|qb| {
        qb.push("s.expiration <= ").push_bind(w.now);
    });
    count(qb, "never_used", &|qb| {
        qb.push("s.last_used_at IS NULL");
    });
    count(qb, "leaked", &|qb| {
        qb.push(
            "EXISTS (SELECT 1 FROM leak_reports l WHERE l.client_pk = s.client_pk \
             AND l.secret_id = s.id AND l.digest = s.hash)",
        );
    });
    count(qb, "presented", &|qb| {
        qb.push("s.last_refused_at >= ")
            .push_bind(w.presented_since);
    });
    for (i, week) in w.weeks.windows(2).enumerate() {
        qb.push("COALESCE(SUM(CASE WHEN s.expiration > ");
        qb.push_bind(week[0]);
        qb.push(" AND s.expiration <= ");
        qb.push_bind(week[1]);
        qb.push(" THEN 1 ELSE 0 END), 0) AS week");
        qb.push(i.to_string());
        if i + 1 < WEEKS {
            qb.push(", ");
        }
    }
}

/// The summary from the row [`push_summary_columns`] selected.
pub fn summary_from_row<R>(row: &R) -> Result<SecretSummary, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut weeks = [0; WEEKS];
    for (i, week) in weeks.iter_mut().enumerate() {
        *week = row.try_get(format!("week{i}").as_str())?;
    }
    Ok(SecretSummary {
        active: row.try_get("active")?,
        expiring_soon: row.try_get("expiring_soon")?,
        expiring_this_month: row.try_get("expiring_month")?,
        expired: row.try_get("expired")?,
        never_used: row.try_get("never_used")?,
        leaked: row.try_get("leaked")?,
        presented_after_rotation: row.try_get("presented")?,
        expirations_per_week: weeks,
    })
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
        // An action's former names too: entries are never rewritten.
        let names = AuditAction::parse(action)
            .map(|a| a.stored_names().into_iter().map(str::to_owned).collect())
            .unwrap_or_else(|| vec![action.clone()]);
        qb.push(" AND action IN (");
        let mut list = qb.separated(", ");
        for name in names {
            list.push_bind(name);
        }
        qb.push(")");
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
