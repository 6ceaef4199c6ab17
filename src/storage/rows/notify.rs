//! Conversions of the journal's and the notifications' rows: audit entries,
//! webhook subscriptions (and their event types), deliveries, attempts and the
//! secrets due for an expiry notice. Re-exported by [`super`].

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use super::parse_kind;
use crate::domain::audit::{AuditEntry, Outcome};
use crate::domain::events::{EventType, SecretSubject};
use crate::domain::ids::{SecretId, TenantId};
use crate::storage::{
    AttemptRecord, Channel, DeliveryRecord, DeliveryState, DueSecret, StorageError, WebhookRecord,
};

/// Event types as the `webhooks.event_types` column stores them: `,a,b,`, or
/// `,*,` for every type (so `LIKE '%,type,%'` matches in both dialects).
pub fn event_types_column(types: &[EventType]) -> String {
    if types.is_empty() {
        return ",*,".into();
    }
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    format!(",{},", names.join(","))
}

pub fn event_types_from_column(text: &str) -> Result<Vec<EventType>, StorageError> {
    text.split(',')
        .filter(|s| !s.is_empty() && *s != "*")
        .map(|s| {
            EventType::parse(s)
                .ok_or_else(|| StorageError::Corrupt(format!("webhooks.event_types: {s:?}")))
        })
        .collect()
}

/// The `LIKE` pattern that finds subscriptions to `kind`.
pub fn event_type_pattern(kind: EventType) -> String {
    format!("%,{},%", kind.as_str())
}

pub fn parse_tenant(column: &str, text: &str) -> Result<TenantId, StorageError> {
    TenantId::parse(text).ok_or_else(|| StorageError::Corrupt(format!("{column}: {text:?}")))
}

pub fn parse_uuid(column: &str, text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text).map_err(|_| StorageError::Corrupt(format!("{column}: {text:?}")))
}

fn small(column: &str, n: i32) -> Result<u32, StorageError> {
    u32::try_from(n).map_err(|_| StorageError::Corrupt(format!("{column}: {n}")))
}

/// An audit entry from its columns (`tenant_id` and `operation_id` as text).
pub fn audit_entry<R>(r: &R) -> Result<AuditEntry, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    let outcome: String = r.try_get("outcome")?;
    let kind: Option<String> = r.try_get("client_kind")?;
    let tenant: Option<String> = r.try_get("tenant_id")?;
    let operation: Option<String> = r.try_get("operation_id")?;
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        tenant: tenant
            .map(|t| parse_tenant("audit_events.tenant_id", &t))
            .transpose()?,
        actor_type: r.try_get("actor_type")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        outcome: Outcome::parse(&outcome)
            .ok_or_else(|| StorageError::Corrupt(format!("audit_events.outcome: {outcome:?}")))?,
        reason: r.try_get("reason")?,
        client_kind: kind.as_deref().map(parse_kind).transpose()?,
        client_id: r.try_get("client_id")?,
        secret_id: r.try_get::<Option<i32>, _>("secret_id")?.map(SecretId),
        source: r.try_get("source")?,
        count: r.try_get("occurrences")?,
        operation_id: operation
            .map(|o| parse_uuid("audit_events.operation_id", &o))
            .transpose()?,
    })
}

/// Audit columns, with the UUID columns read as text (`$cast` is `::text` on PostgreSQL).
macro_rules! audit_columns {
    ($cast:literal) => {
        concat!(
            "seq, at, tenant_id",
            $cast,
            " AS tenant_id, actor_type, actor, action, outcome, reason, client_kind, client_id, \
             secret_id, source, operation_id",
            $cast,
            " AS operation_id, occurrences"
        )
    };
}
pub(crate) use audit_columns;

/// Webhook columns, `id` and `tenant_id` read as text.
macro_rules! webhook_columns {
    ($cast:literal) => {
        concat!(
            "id",
            $cast,
            " AS id, tenant_id",
            $cast,
            " AS tenant_id, url, description, event_types, enabled, signing_secret_sealed, \
             created_at, updated_at"
        )
    };
}
pub(crate) use webhook_columns;

pub fn webhook<R>(r: &R) -> Result<WebhookRecord, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    let id: String = r.try_get("id")?;
    let tenant: String = r.try_get("tenant_id")?;
    let types: String = r.try_get("event_types")?;
    Ok(WebhookRecord {
        id: parse_uuid("webhooks.id", &id)?,
        tenant: parse_tenant("webhooks.tenant_id", &tenant)?,
        url: r.try_get("url")?,
        description: r.try_get("description")?,
        event_types: event_types_from_column(&types)?,
        enabled: r.try_get("enabled")?,
        signing_secret_sealed: r.try_get("signing_secret_sealed")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Delivery columns of `deliveries d JOIN events e` (`webhook_id` as text).
macro_rules! delivery_columns {
    ($cast:literal) => {
        concat!(
            "d.id, d.event_id, e.type AS event_type, d.channel, d.webhook_id",
            $cast,
            " AS webhook_id, d.state, d.attempts, d.attempts_before_resend, d.next_attempt_at, \
             d.last_status, d.last_error, d.created_at, d.delivered_at"
        )
    };
}
pub(crate) use delivery_columns;

pub fn delivery<R>(r: &R) -> Result<DeliveryRecord, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let event: String = r.try_get("event_id")?;
    let channel: String = r.try_get("channel")?;
    let state: String = r.try_get("state")?;
    let webhook: Option<String> = r.try_get("webhook_id")?;
    Ok(DeliveryRecord {
        id: r.try_get("id")?,
        event_id: parse_uuid("deliveries.event_id", &event)?,
        event_type: r.try_get("event_type")?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StorageError::Corrupt(format!("deliveries.channel: {channel:?}")))?,
        webhook_id: webhook
            .map(|w| parse_uuid("deliveries.webhook_id", &w))
            .transpose()?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StorageError::Corrupt(format!("deliveries.state: {state:?}")))?,
        attempts: small("deliveries.attempts", r.try_get("attempts")?)?,
        attempts_before_resend: small(
            "deliveries.attempts_before_resend",
            r.try_get("attempts_before_resend")?,
        )?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_status: r
            .try_get::<Option<i32>, _>("last_status")?
            .and_then(|s| u16::try_from(s).ok()),
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
        attempt_log: Vec::new(),
    })
}

pub fn attempt<R>(r: &R) -> Result<AttemptRecord, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(AttemptRecord {
        attempt: small("delivery_attempts.attempt", r.try_get("attempt")?)?,
        at: r.try_get("at")?,
        status: r
            .try_get::<Option<i32>, _>("status")?
            .and_then(|s| u16::try_from(s).ok()),
        error: r.try_get("error")?,
        duration_ms: small("delivery_attempts.duration_ms", r.try_get("duration_ms")?)?,
    })
}

/// Columns of a due secret: `clients c JOIN secrets s JOIN tenants t`, tenant id as text.
macro_rules! due_columns {
    ($cast:literal) => {
        concat!(
            "c.pk, c.tenant_id",
            $cast,
            " AS tenant_id, t.name AS tenant_name, c.kind, c.id AS client_id, s.id, \
             s.description, s.hint, s.expiration"
        )
    };
}
pub(crate) use due_columns;

pub fn due_secret<R>(r: &R) -> Result<DueSecret, StorageError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let tenant: String = r.try_get("tenant_id")?;
    let kind: String = r.try_get("kind")?;
    Ok(DueSecret {
        client_pk: r.try_get("pk")?,
        tenant_name: r.try_get("tenant_name")?,
        subject: SecretSubject {
            tenant: parse_tenant("clients.tenant_id", &tenant)?,
            client_kind: parse_kind(&kind)?,
            client_id: r.try_get("client_id")?,
            secret_id: SecretId(r.try_get("id")?),
            description: r.try_get("description")?,
            hint: r.try_get("hint")?,
            expiration: r.try_get("expiration")?,
        },
    })
}
