//! Outbound notifications: email now; the lead adds webhooks.
//!
//! - [`message`]: what an expiry email says (subject, plain text, HTML), rendered
//!   from a [`message::SecretNotice`]; pure, no I/O.
//! - [`email`]: the `notifications.email` settings and the [`email::Mailer`] that
//!   sends a rendered message through one pooled connection to the SMTP server.
//!
//! Nothing here decides *when* to notify or *whom*: the caller (the delivery worker)
//! passes the notice and the recipients.

pub mod email;
pub mod message;
