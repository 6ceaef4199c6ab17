//! Outbound notifications: email now; the lead adds webhooks.
//!
//! - [`message`]: what an expiry email says (subject, plain text, HTML), rendered
//!   from a [`message::SecretNotice`]; pure, no I/O.
//!
//! Nothing here decides *when* to notify or *whom*: the caller (the delivery worker)
//! passes the notice and the recipients.

pub mod message;
