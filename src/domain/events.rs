//! Events about secrets, as webhooks and emails carry them: their types and the
//! JSON payload (never the value). An event is written to the outbox in the same
//! transaction as the change it reports.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::ids::{ClientKind, SecretId, TenantId};
use super::leaks::LeakDetails;

/// What happened to a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Created,
    Updated,
    Renewed,
    Revoked,
    Expiring,
    Expired,
    /// A secret scanner reported the value.
    Leaked,
    /// A value of the secret that no longer works (replaced, revoked, expired)
    /// was presented; at most one per secret and hour.
    RefusedUse,
}

impl EventType {
    pub const ALL: [Self; 8] = [
        Self::Created,
        Self::Updated,
        Self::Renewed,
        Self::Revoked,
        Self::Expiring,
        Self::Expired,
        Self::Leaked,
        Self::RefusedUse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "secret.created",
            Self::Updated => "secret.updated",
            Self::Renewed => "secret.renewed",
            Self::Revoked => "secret.revoked",
            Self::Expiring => "secret.expiring",
            Self::Expired => "secret.expired",
            Self::Leaked => "secret.leaked",
            Self::RefusedUse => "secret.refused-use",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Expiry warnings and leaks also go out by email; lifecycle changes only by webhook.
    pub fn is_expiry_notice(self) -> bool {
        matches!(self, Self::Expiring | Self::Expired | Self::Leaked)
    }
}

/// The secret an event is about, as its payload describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSubject {
    pub tenant: TenantId,
    pub client_kind: ClientKind,
    pub client_id: String,
    pub secret_id: SecretId,
    pub description: String,
    pub hint: String,
    pub expiration: Option<DateTime<Utc>>,
}

/// An event to record: its id (the webhook-id of every delivery), type, subject
/// and when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Uuid,
    pub kind: EventType,
    pub subject: SecretSubject,
    pub at: DateTime<Utc>,
    /// For `secret.expiring`: how long before the expiration it was raised.
    pub lead_seconds: Option<u64>,
    /// For `secret.leaked`: where the value was found and what was done.
    pub leak: Option<LeakDetails>,
    /// For `secret.refused-use`: how often and when former values were presented.
    pub refused: Option<RefusedDetails>,
    /// Who made the change, for events of a management change: the actor's type
    /// (`client`, `user`, `platform`) and name, as the audit trail records them.
    pub actor: Option<(String, String)>,
}

/// The refused presentations a `secret.refused-use` event reports: the secret's
/// total so far, the latest and its source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedDetails {
    pub count: i64,
    pub last_at: Option<DateTime<Utc>>,
    pub last_from: Option<String>,
}

impl Event {
    pub fn new(kind: EventType, subject: SecretSubject, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            kind,
            subject,
            at,
            lead_seconds: None,
            leak: None,
            refused: None,
            actor: None,
        }
    }

    /// The event, naming who made the change.
    pub fn by(mut self, actor_type: &str, actor: &str) -> Self {
        self.actor = Some((actor_type.to_owned(), actor.to_owned()));
        self
    }

    /// The JSON body delivered to webhooks (Standard Webhooks: `type`,
    /// `timestamp`, `data`).
    pub fn payload(&self) -> Value {
        let s = &self.subject;
        let mut data = json!({
            "tenantId": s.tenant.to_string(),
            "clientType": s.client_kind.route_segment(),
            "clientId": s.client_id,
            "secretId": s.secret_id.0,
            "description": s.description,
            "hint": s.hint,
            "expiration": s.expiration.map(rfc3339),
        });
        if let (Some(lead), Some(map)) = (self.lead_seconds, data.as_object_mut()) {
            map.insert("leadTimeSeconds".into(), json!(lead));
        }
        if let (Some(leak), Some(map)) = (&self.leak, data.as_object_mut()) {
            map.insert(
                "leak".into(),
                json!({
                    "tokenType": leak.token_type,
                    "url": leak.url,
                    "source": leak.source,
                    "action": leak.action,
                }),
            );
        }
        if let (Some(refused), Some(map)) = (&self.refused, data.as_object_mut()) {
            map.insert(
                "refusedUse".into(),
                json!({
                    "count": refused.count,
                    "lastRefusedAt": refused.last_at.map(rfc3339),
                    "lastRefusedFrom": refused.last_from,
                }),
            );
        }
        if let (Some((actor_type, actor)), Some(map)) = (&self.actor, data.as_object_mut()) {
            map.insert("actorType".into(), json!(actor_type));
            map.insert("actor".into(), json!(actor));
        }
        json!({
            "id": self.id.to_string(),
            "type": self.kind.as_str(),
            "timestamp": rfc3339(self.at),
            "data": data,
        })
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn event_types_round_trip_through_their_names() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("secret.exploded"), None);
    }

    #[test]
    fn the_payload_describes_the_secret_without_its_value() {
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        let mut event = Event::new(
            EventType::Expiring,
            SecretSubject {
                tenant: TenantId::generate(),
                client_kind: ClientKind::ClientCredentials,
                client_id: "billing".into(),
                secret_id: SecretId(3),
                description: "prod".into(),
                hint: "lkcs_AbCd".into(),
                expiration: Some(at),
            },
            at,
        );
        event.lead_seconds = Some(86_400);
        let p = event.payload();
        assert_eq!(p["type"], "secret.expiring");
        assert_eq!(p["id"], event.id.to_string());
        assert_eq!(p["data"]["clientType"], "ClientCredentialClients");
        assert_eq!(p["data"]["secretId"], 3);
        assert_eq!(p["data"]["expiration"], "2026-05-01T08:00:00Z");
        assert_eq!(p["data"]["leadTimeSeconds"], 86_400);
        assert!(
            p["data"].get("actor").is_none(),
            "a scheduled event has no actor"
        );
        let renewed =
            Event::new(EventType::Renewed, event.subject.clone(), at).by("client", "billing");
        let p = renewed.payload();
        assert_eq!(
            (&p["data"]["actorType"], &p["data"]["actor"]),
            (&json!("client"), &json!("billing"))
        );
    }
}
