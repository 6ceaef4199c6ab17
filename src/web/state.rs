//! The state every handler of every front end can reach, built once by the
//! composition root ([`crate::app`]).

use crate::domain::bootstrap_token::BootstrapToken;
use crate::domain::forwarded::TrustedProxies;
use crate::service::Services;
use crate::service::accounts::Accounts;
use crate::service::tokens::Tokens;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub tokens: Tokens,
    pub bootstrap_token: Option<BootstrapToken>,
    pub public_url: String,
    /// Console users, sign-in and sessions.
    pub accounts: Accounts,
    /// Peers whose forwarding headers name the client (see [`super::operation::ClientAddress`]).
    pub trusted_proxies: TrustedProxies,
}
