//! The state every handler of every front end can reach, built once by the
//! composition root ([`crate::app`]).

use std::ops::Deref;
use std::sync::Arc;

use crate::domain::bootstrap_token::BootstrapToken;
use crate::domain::forwarded::TrustedProxies;
use crate::service::Services;
use crate::service::accounts::Accounts;
use crate::service::tokens::Tokens;

/// What every handler can reach: one shared [`AppParts`]. axum clones the state for
/// every request, so a clone is one reference count, not a copy of every service.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl AppParts {
    /// The warning for a non-empty list of notification recipients saved while email is
    /// off, also logged (once per save, naming the tenant) for the operator.
    pub fn recipients_warning(
        &self,
        tenant: &crate::domain::ids::TenantId,
        recipients: &[String],
    ) -> Option<&'static str> {
        if self.email_enabled || recipients.is_empty() {
            return None;
        }
        tracing::warn!(
            tenant.id = %tenant,
            "notification recipients saved while email is off (no notifications.email.host): \
             they get no email"
        );
        Some(EMAIL_OFF_WARNING)
    }
}

/// What a tenant administrator is told on saving recipients while email is off.
pub const EMAIL_OFF_WARNING: &str = "Saved, but email is off on this server (no \
     notifications.email.host is configured): these recipients get no email until the \
     operator configures SMTP. Webhooks still deliver the notices.";

/// The parts of [`AppState`].
pub struct AppParts {
    pub services: Services,
    pub tokens: Tokens,
    pub bootstrap_token: Option<BootstrapToken>,
    /// SMTP is configured (`notifications.email`): notification recipients get email.
    pub email_enabled: bool,
    pub public_url: String,
    /// Console users, sign-in and sessions.
    pub accounts: Accounts,
    /// Peers whose forwarding headers name the client (see [`super::operation::ClientAddress`]).
    pub trusted_proxies: TrustedProxies,
}
