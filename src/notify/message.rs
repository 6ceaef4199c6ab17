//! The email about a secret that is about to expire or has expired: subject,
//! plain text and HTML, rendered from a [`SecretNotice`]. Pure: no I/O, no clock
//! (the notice carries every fact, including the lead time that triggered it).
//!
//! Invariants:
//! - every user-supplied string (tenant name, client id, description, hint) is
//!   reduced to one line (control characters become spaces) before it reaches any
//!   part, so a description cannot forge extra lines in the text part nor header
//!   lines in the subject;
//! - the HTML part is rendered by askama (`templates/email/`), which HTML-escapes
//!   every value;
//! - the console link is shown only for `http://` and `https://` URLs, so a
//!   `javascript:` URL never becomes a link.

use std::time::Duration;

use askama::Template;
use chrono::{DateTime, SecondsFormat, Utc};

/// What happened to the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// The secret expires within `lead` (one of the configured lead times).
    Expiring { lead: Duration },
    /// The secret's expiration has passed: it no longer authenticates.
    Expired,
}

/// Everything an expiry email says about one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretNotice {
    pub kind: NoticeKind,
    pub tenant_id: String,
    pub tenant_name: String,
    pub client_id: String,
    /// `ClientCredentialClients` or `HybridClients`.
    pub client_kind: String,
    pub secret_id: i32,
    pub description: String,
    pub hint: String,
    pub expiration: DateTime<Utc>,
    /// The console page of this client, built by the caller; no link when `None`.
    pub console_url: Option<String>,
}

/// A rendered email: one subject and two alternative bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// One line: no CR, LF or other control character.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The longest user-supplied string the subject quotes, in characters.
const SUBJECT_FIELD_MAX: usize = 60;

/// Renders the email for `notice`.
pub fn render(notice: &SecretNotice) -> EmailContent {
    let view = View::of(notice);
    EmailContent {
        subject: subject(&view),
        text: render_template(&TextBody { v: &view }),
        html: render_template(&HtmlBody { v: &view }),
    }
}

#[expect(
    clippy::expect_used,
    reason = "the templates only write strings and numbers into a String, which cannot fail"
)]
fn render_template(template: &impl Template) -> String {
    template
        .render()
        .expect("rendering an email template into a String cannot fail")
}

/// The notice as the templates show it: one-line strings, formatted times.
struct View {
    expired: bool,
    /// "expires within 7 days" / "has expired".
    what: String,
    tenant_id: String,
    tenant_name: String,
    client_id: String,
    client_kind: String,
    secret_id: i32,
    description: String,
    hint: String,
    expiration_rfc3339: String,
    expiration_human: String,
    console_url: Option<String>,
}

impl View {
    fn of(n: &SecretNotice) -> Self {
        let what = match n.kind {
            NoticeKind::Expiring { lead } => format!("expires within {}", lead_text(lead)),
            NoticeKind::Expired => "has expired".to_owned(),
        };
        let description = one_line(&n.description);
        Self {
            expired: n.kind == NoticeKind::Expired,
            what,
            tenant_id: one_line(&n.tenant_id),
            tenant_name: one_line(&n.tenant_name),
            client_id: one_line(&n.client_id),
            client_kind: client_kind_text(&n.client_kind),
            secret_id: n.secret_id,
            description: if description.is_empty() {
                "(no description)".to_owned()
            } else {
                description
            },
            hint: one_line(&n.hint),
            expiration_rfc3339: n.expiration.to_rfc3339_opts(SecondsFormat::Secs, true),
            expiration_human: n.expiration.format("%A %-d %B %Y at %H:%M UTC").to_string(),
            console_url: n
                .console_url
                .as_deref()
                .map(one_line)
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        }
    }
}

fn subject(v: &View) -> String {
    let subject = format!(
        "Latchkey: secret {} of client {} in tenant {} {}",
        v.secret_id,
        shorten(&v.client_id),
        shorten(&v.tenant_name),
        v.what
    );
    // Every part is already one line; this keeps the promise even if that changes.
    one_line(&subject)
}

/// Control characters (CR, LF, TAB, NUL, …) become spaces; runs of spaces collapse.
fn one_line(s: &str) -> String {
    let replaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= SUBJECT_FIELD_MAX {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(SUBJECT_FIELD_MAX - 1).collect();
    cut.push('…');
    cut
}

fn client_kind_text(kind: &str) -> String {
    match kind {
        "ClientCredentialClients" => "client credentials client".to_owned(),
        "HybridClients" => "hybrid client".to_owned(),
        other => one_line(other),
    }
}

/// "7 days", "1 day", "12 hours", "5 minutes": the largest unit that divides the lead.
fn lead_text(lead: Duration) -> String {
    let secs = lead.as_secs();
    let (n, unit) = match secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[derive(Template)]
#[template(path = "email/secret_notice.txt")]
struct TextBody<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "email/secret_notice.html")]
struct HtmlBody<'a> {
    v: &'a View,
}

#[cfg(test)]
mod tests;
