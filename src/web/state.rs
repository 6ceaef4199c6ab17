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

/// The parts of [`AppState`].
pub struct AppParts {
    pub services: Services,
    pub tokens: Tokens,
    pub bootstrap_token: Option<BootstrapToken>,
    pub public_url: String,
    /// Console users, sign-in and sessions.
    pub accounts: Accounts,
    /// Peers whose forwarding headers name the client (see [`super::operation::ClientAddress`]).
    pub trusted_proxies: TrustedProxies,
}
