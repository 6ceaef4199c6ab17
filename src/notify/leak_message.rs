//! The email about a leaked secret (`secret.leaked`): which secret a scanner
//! reported, where it was found and what was done, rendered from the event's
//! JSON payload (the one webhooks receive; never the value). Pure: no I/O.
//! Every string is reduced to one line, and the HTML part is escaped by askama.

use askama::Template;
use serde::Deserialize;

use super::message::EmailContent;

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
    leak: Leak,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Leak {
    url: String,
    source: String,
    action: String,
}

/// What the templates show: one-line strings.
struct View {
    revoked: bool,
    tenant_id: String,
    tenant_name: String,
    client_id: String,
    client_kind: String,
    secret_id: i32,
    description: String,
    hint: String,
    url: String,
    source: String,
}

#[derive(Template)]
#[template(path = "email/secret_leaked.txt")]
struct TextBody<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "email/secret_leaked.html")]
struct HtmlBody<'a> {
    v: &'a View,
}

/// The email a `secret.leaked` payload describes; `None` for other events.
pub fn leak_email(payload: &str, tenant_name: &str) -> Result<Option<EmailContent>, String> {
    let kind: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| format!("unreadable event payload: {e}"))?;
    if kind["type"] != "secret.leaked" {
        return Ok(None);
    }
    let p: Payload =
        serde_json::from_str(payload).map_err(|e| format!("unreadable event payload: {e}"))?;
    debug_assert_eq!(p.kind, "secret.leaked");
    let d = p.data;
    let description = one_line(&d.description);
    let v = View {
        revoked: d.leak.action == "revoked",
        tenant_id: one_line(&d.tenant_id),
        tenant_name: one_line(tenant_name),
        client_id: one_line(&d.client_id),
        client_kind: one_line(&d.client_type),
        secret_id: d.secret_id,
        description: if description.is_empty() {
            "(no description)".to_owned()
        } else {
            description
        },
        hint: one_line(&d.hint),
        url: one_line(&d.leak.url),
        source: one_line(&d.leak.source),
    };
    let what = if v.revoked {
        "was leaked and has been revoked"
    } else {
        "was leaked: rotate it now"
    };
    let subject: String = format!(
        "Latchkey: secret {} of client {} in tenant {} {what}",
        v.secret_id,
        v.client_id.chars().take(60).collect::<String>(),
        v.tenant_name.chars().take(60).collect::<String>()
    );
    Ok(Some(EmailContent {
        subject: one_line(&subject),
        text: TextBody { v: &v }.render().map_err(|e| e.to_string())?,
        html: HtmlBody { v: &v }.render().map_err(|e| e.to_string())?,
    }))
}

fn one_line(s: &str) -> String {
    let replaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::events::{Event, EventType, SecretSubject};
    use crate::domain::ids::{ClientKind, SecretId, TenantId};
    use crate::domain::leaks::LeakDetails;

    #[test]
    fn a_leak_event_becomes_an_email_naming_where_and_what() {
        let mut event = Event::new(
            EventType::Leaked,
            SecretSubject {
                tenant: TenantId::generate(),
                client_kind: ClientKind::ClientCredentials,
                client_id: "billing".into(),
                secret_id: SecretId(3),
                description: "prod <b>key</b>\r\nBcc: x".into(),
                hint: "lkcs_Ab12".into(),
                expiration: None,
            },
            Utc::now(),
        );
        event.leak = Some(LeakDetails {
            token_type: "latchkey".into(),
            url: "https://github.com/o/r/blob/1/a.yml".into(),
            source: "content".into(),
            action: "revoked".into(),
        });
        let mail = leak_email(&event.payload().to_string(), "Acme")
            .unwrap()
            .unwrap();
        assert!(
            mail.subject.contains("has been revoked"),
            "{}",
            mail.subject
        );
        assert!(mail.text.contains("https://github.com/o/r/blob/1/a.yml"));
        assert!(
            mail.html.contains("&#60;b&#62;key") && !mail.html.contains("<b>"),
            "{}",
            mail.html
        );
        assert!(!mail.text.contains("\r\nBcc"));
        let created = Event::new(EventType::Created, event.subject.clone(), Utc::now());
        assert!(
            leak_email(&created.payload().to_string(), "Acme")
                .unwrap()
                .is_none()
        );
    }
}
