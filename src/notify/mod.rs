//! Outbound notifications: the settings, the delivery worker that drains the
//! event outbox (signed webhooks; email), and the expiry scheduler that raises
//! `secret.expiring` and `secret.expired` once per secret and threshold.
//!
//! Events are written to the outbox by storage in the same transaction as the
//! change they report ([`crate::storage::Journal`]); everything here runs in the
//! background on every node, coordinated only through the database.
//!
//! - [`settings`]: when to check, how far ahead, how to retry.
//! - [`dispatch`]: claims due deliveries, sends them, records each attempt.
//! - [`expiry`]: raises `secret.expiring` / `secret.expired` once.
//! - [`message`]: what an expiry email says (subject, plain text, HTML), rendered
//!   from a [`message::SecretNotice`]; pure, no I/O.
//! - [`email`]: the `notifications.email` settings and the [`email::Mailer`].
//! - [`notice_email`]: an expiry event's payload turned into that email.

pub mod dispatch;
pub mod email;
pub mod expiry;
pub mod leak_message;
pub mod message;
pub mod notice_email;
pub mod settings;
pub mod targets;

/// Sends the email of an expiry notice to a tenant's recipients.
#[async_trait::async_trait]
pub trait EmailSender: Send + Sync {
    /// `payload` is the event's JSON (as webhooks receive it); errors are short
    /// descriptions fit for the delivery log (never credentials).
    async fn send(&self, to: &[String], tenant_name: &str, payload: &str) -> Result<(), String>;

    /// How long one step of a send may take (a whole send takes several): the
    /// delivery worker renews its claim on a delivery at least this often.
    fn time_limit(&self) -> std::time::Duration;
}
