//! The email side of an expiry event: turns the event's JSON payload (the same
//! one webhooks receive) into a [`SecretNotice`], renders it, and sends it with
//! the [`Mailer`] to the tenant's recipients.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::EmailSender;
use super::email::Mailer;
use super::message::{NoticeKind, SecretNotice, render};

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    tenant_id: String,
    client_type: String,
    client_id: String,
    secret_id: i32,
    description: String,
    hint: String,
    expiration: Option<DateTime<Utc>>,
    lead_time_seconds: Option<u64>,
}

/// The notice an expiry event's payload describes; `None` for other events.
pub fn notice_from_payload(
    payload: &str,
    tenant_name: &str,
    public_url: Option<&str>,
) -> Result<Option<SecretNotice>, String> {
    let p: Payload =
        serde_json::from_str(payload).map_err(|e| format!("unreadable event payload: {e}"))?;
    let kind = match p.kind.as_str() {
        "secret.expired" => NoticeKind::Expired,
        "secret.expiring" => NoticeKind::Expiring {
            lead: Duration::from_secs(p.data.lead_time_seconds.unwrap_or(0)),
        },
        _ => return Ok(None),
    };
    let Some(expiration) = p.data.expiration else {
        return Ok(None);
    };
    let console_url = public_url.map(|base| {
        format!(
            "{base}/console/tenants/{}/{}/{}",
            p.data.tenant_id, p.data.client_type, p.data.client_id
        )
    });
    Ok(Some(SecretNotice {
        kind,
        tenant_id: p.data.tenant_id,
        tenant_name: tenant_name.to_owned(),
        client_id: p.data.client_id,
        client_kind: p.data.client_type,
        secret_id: p.data.secret_id,
        description: p.data.description,
        hint: p.data.hint,
        expiration,
        console_url,
    }))
}

/// Sends expiry notices by email.
pub struct NoticeMailer {
    pub mailer: Mailer,
    /// The server's public URL, for a link to the client in the console.
    pub public_url: Option<String>,
}

#[async_trait::async_trait]
impl EmailSender for NoticeMailer {
    async fn send(&self, to: &[String], tenant_name: &str, payload: &str) -> Result<(), String> {
        let Some(notice) = notice_from_payload(payload, tenant_name, self.public_url.as_deref())?
        else {
            if let Some(mail) = super::leak_message::leak_email(payload, tenant_name)? {
                return self.mailer.send(to, &mail).await.map_err(|e| e.to_string());
            }
            return Ok(());
        };
        self.mailer
            .send(to, &render(&notice))
            .await
            .map_err(|e| e.to_string())
    }

    fn time_limit(&self) -> Duration {
        self.mailer.timeout()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::events::{Event, EventType, SecretSubject};
    use crate::domain::ids::{ClientKind, SecretId, TenantId};

    #[test]
    fn an_expiring_event_becomes_a_notice_naming_the_secret() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let tenant = TenantId::generate();
        let mut event = Event::new(
            EventType::Expiring,
            SecretSubject {
                tenant,
                client_kind: ClientKind::Hybrid,
                client_id: "portal".into(),
                secret_id: SecretId(4),
                description: "prod key".into(),
                hint: "lkcs_Ab12".into(),
                expiration: Some(at),
            },
            at,
        );
        event.lead_seconds = Some(7 * 86_400);
        let notice = notice_from_payload(
            &event.payload().to_string(),
            "Acme",
            Some("https://lk.example"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            notice.kind,
            NoticeKind::Expiring {
                lead: Duration::from_secs(7 * 86_400)
            }
        );
        assert_eq!(
            (
                notice.tenant_name.as_str(),
                notice.client_id.as_str(),
                notice.secret_id
            ),
            ("Acme", "portal", 4)
        );
        assert_eq!(notice.client_kind, "HybridClients");
        assert_eq!(notice.expiration, at);
        assert_eq!(
            notice.console_url.as_deref(),
            Some(
                format!("https://lk.example/console/tenants/{tenant}/HybridClients/portal")
                    .as_str()
            )
        );
        let created = Event::new(EventType::Created, event.subject.clone(), at);
        assert!(
            notice_from_payload(&created.payload().to_string(), "Acme", None)
                .unwrap()
                .is_none()
        );
    }
}
