//! Email over SMTP: the `notifications.email` settings and the [`Mailer`] that
//! sends a rendered [`EmailContent`] as a multipart/alternative message (plain text
//! and HTML) through lettre's pooled asynchronous transport.
//!
//! Invariants:
//! - the SMTP password is a [`SmtpPassword`]: redacted `Debug`, no `Display`, no
//!   `Serialize`; it is never logged, and [`EmailError`] texts are scrubbed of it;
//! - `tls: starttls` *requires* the upgrade (lettre's `Tls::Required`): a server that
//!   does not offer STARTTLS gets no credentials and no message;
//! - credentials are only sent encrypted, except to a loopback host (a local relay);
//! - recipients are validated before any connection is made.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::message::EmailContent;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (default port 25). Only for a relay on a trusted network.
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte, "implicit TLS" / SMTPS (port 465).
    Tls,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::Starttls => 587,
            Self::Tls => 465,
        }
    }
}

/// The SMTP password: redacted in `Debug`, zeroed on drop, never serialised.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SmtpPassword(#[serde(deserialize_with = "scalar_string")] Zeroizing<String>);

impl SmtpPassword {
    pub fn new(password: String) -> Self {
        Self(Zeroizing::new(password))
    }
}

impl fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmtpPassword(..)")
    }
}

/// `notifications.email`: where and how to send email.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailSettings {
    /// The SMTP server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Default: 25, 587 or 465 by [`TlsMode`]; see [`EmailSettings::port`].
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default, deserialize_with = "optional_scalar_string")]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SmtpPassword>,
    /// The sender mailbox: `latchkey@example.com` or `Latchkey <latchkey@example.com>`.
    pub from: String,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_timeout_seconds() -> u64 {
    30
}

/// A problem with one `notifications.email` key (`key` is relative: `port`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notifications.email.{key}: {problem}")]
pub struct EmailSettingsError {
    pub key: &'static str,
    pub problem: String,
}

fn invalid(key: &'static str, problem: impl Into<String>) -> EmailSettingsError {
    EmailSettingsError {
        key,
        problem: problem.into(),
    }
}

impl EmailSettings {
    /// The configured port, or the default of the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.tls.default_port())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// Checks what serde cannot: a usable host, port, sender, timeout and credentials.
    pub fn validate(&self) -> Result<(), EmailSettingsError> {
        let host = self.host.as_str();
        if host.is_empty()
            || host.contains("://")
            || host.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "host",
                format!(
                    "{host:?} is not a host name or address (write it without a scheme or port)"
                ),
            ));
        }
        if self.port == Some(0) {
            return Err(invalid("port", "must be 1 to 65535"));
        }
        Mailbox::from_str(&self.from).map_err(|e| {
            invalid(
                "from",
                format!("{:?} is not a valid mailbox ({e}); write \"Name <user@example.com>\" or \"user@example.com\"", self.from),
            )
        })?;
        if !(1..=600).contains(&self.timeout_seconds) {
            return Err(invalid(
                "timeoutSeconds",
                format!("must be 1 to 600 (got {})", self.timeout_seconds),
            ));
        }
        match (&self.username, &self.password) {
            (Some(_), None) => {
                return Err(invalid("password", "is required when username is set"));
            }
            (None, Some(_)) => {
                return Err(invalid("username", "is required when password is set"));
            }
            (Some(user), Some(_)) if user.is_empty() => {
                return Err(invalid("username", "must not be empty"));
            }
            (Some(_), Some(_)) if self.tls == TlsMode::None && !is_loopback(host) => {
                return Err(invalid(
                    "tls",
                    "is none, so the credentials would cross the network in the clear; \
                     use starttls or tls (plain SMTP with credentials is allowed only to a loopback host)",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a message was not sent. Never contains the SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error(transparent)]
    Settings(#[from] EmailSettingsError),
    #[error("the message has no recipient")]
    NoRecipients,
    #[error("recipient {address:?} is not a valid email address: {reason}")]
    InvalidRecipient { address: String, reason: String },
    #[error("cannot build the message: {0}")]
    Message(String),
    /// The server answered with an SMTP error code (4xx transient, 5xx permanent).
    #[error("the SMTP server {server} refused the message: {detail}")]
    Refused {
        server: String,
        permanent: bool,
        detail: String,
    },
    /// No conversation: connection refused, timeout, TLS failure, network error.
    #[error("cannot deliver to the SMTP server {server}: {detail}")]
    Unreachable { server: String, detail: String },
}

impl EmailError {
    /// True when sending the same message again cannot succeed without a change
    /// (bad recipient, 5xx answer, bad settings); false when a retry may work.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Refused { permanent, .. } => *permanent,
            Self::Unreachable { .. } => false,
            Self::Settings(_) | Self::NoRecipients | Self::InvalidRecipient { .. } => true,
            Self::Message(_) => true,
        }
    }
}

/// Sends email through one pooled SMTP transport. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for errors and logs.
    server: String,
    tls: TlsMode,
    /// To scrub from error texts (belt and braces: lettre does not echo it).
    password: Option<SmtpPassword>,
    /// The limit of each step of the SMTP conversation (not of the whole send).
    timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// Asks the receiving side not to auto-reply (RFC 3834).
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

impl Mailer {
    /// Builds the transport (no connection yet). Must run inside a Tokio runtime:
    /// the connection pool starts its clean-up task here.
    pub fn new(settings: &EmailSettings) -> Result<Self, EmailError> {
        settings.validate()?;
        let from = Mailbox::from_str(&settings.from)
            .map_err(|e| invalid("from", format!("not a valid mailbox: {e}")))?;
        let host = settings.host.as_str();
        let server = format!("{host}:{}", settings.port());
        let tls = match settings.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls | TlsMode::Tls => {
                let parameters = TlsParameters::new(host.to_owned())
                    .map_err(|e| invalid("host", format!("cannot set up TLS for it: {e}")))?;
                if settings.tls == TlsMode::Tls {
                    Tls::Wrapper(parameters)
                } else {
                    Tls::Required(parameters)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port())
            .tls(tls)
            .timeout(Some(settings.timeout()));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.0.as_str().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            server,
            tls: settings.tls,
            password: settings.password.clone(),
            timeout: settings.timeout(),
        })
    }

    /// How long each step of a send may take (`timeoutSeconds`); a whole send takes
    /// several. Not cancelled from outside: a pooled connection dropped mid-conversation
    /// could be reused out of step.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `content` to every address of `to` in one message (all in `To`).
    pub async fn send(&self, to: &[String], content: &EmailContent) -> Result<(), EmailError> {
        let message = self.message(to, content)?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::debug!(smtp.server = %self.server, recipients = to.len(), "email sent");
                Ok(())
            }
            Err(e) => Err(self.classify(&e)),
        }
    }

    fn message(&self, to: &[String], content: &EmailContent) -> Result<Message, EmailError> {
        if to.is_empty() {
            return Err(EmailError::NoRecipients);
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(content.subject.as_str())
            // In the sender's domain, not this machine's host name.
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::new_v4(),
                self.from.email.domain()
            )))
            .raw_header(HeaderValue::new(
                AUTO_SUBMITTED,
                "auto-generated".to_owned(),
            ));
        for address in to {
            let mailbox = Mailbox::from_str(address).map_err(|e| EmailError::InvalidRecipient {
                address: address.clone(),
                reason: e.to_string(),
            })?;
            builder = builder.to(mailbox);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                content.text.clone(),
                content.html.clone(),
            ))
            .map_err(|e| EmailError::Message(e.to_string()))
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> EmailError {
        let mut detail = e.to_string();
        if let Some(password) = &self.password
            && !password.0.is_empty()
        {
            detail = detail.replace(password.0.as_str(), "[redacted]");
        }
        let server = self.server.clone();
        if e.is_permanent() || e.is_transient() {
            EmailError::Refused {
                server,
                permanent: e.is_permanent(),
                detail,
            }
        } else {
            EmailError::Unreachable { server, detail }
        }
    }
}

/// A string from configuration that figment may have parsed as a number or a
/// boolean (environment values are parsed: `LATCHKEY_..._USERNAME=1234`).
fn scalar_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
    struct Scalar;
    impl serde::de::Visitor<'_> for Scalar {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_bool<E>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_char<E>(self, v: char) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Scalar).map(Zeroizing::new)
}

fn optional_scalar_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    scalar_string(d).map(|s| Some(s.as_str().to_owned()))
}

#[cfg(test)]
mod tests;
