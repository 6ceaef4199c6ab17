//! What the templates show: the page frame ([`Layout`]) and rows, in the
//! console's words and formats (DD/MM/YYYY, every shown date naming its zone:
//! [`date_utc`], or the viewer's zone once the page's script converted it). No
//! secret value ever enters a view model except [`ShownOnce`].

use chrono::{DateTime, Utc};

use super::form::ddmmyyyy;
use crate::domain::access::Action;
use crate::domain::ids::{ClientKind, TenantId};
use crate::domain::secret_status::SecretStatus;
use crate::service::accounts::SignedIn;
use crate::service::{ClientRecord, SecretRecord, ServiceError};

/// The frame of every page: title, the signed-in user and the navigation.
pub struct Layout {
    pub title: String,
    /// Empty on the sign-in page.
    pub user: String,
    pub platform_admin: bool,
    pub csrf: String,
    /// `tenants`, `clients` or `users`: the navigation entry to mark.
    pub section: &'static str,
    pub tenant: Option<TenantNav>,
}

pub struct TenantNav {
    pub id: String,
    pub name: String,
}

impl Layout {
    pub fn new(s: &SignedIn, title: impl Into<String>, section: &'static str) -> Self {
        Self {
            title: title.into(),
            user: s.user.name.clone(),
            platform_admin: s.user.platform_admin,
            csrf: s.csrf.clone(),
            section,
            tenant: None,
        }
    }

    pub fn anonymous(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user: String::new(),
            platform_admin: false,
            csrf: String::new(),
            section: "",
            tenant: None,
        }
    }

    pub fn in_tenant(mut self, id: &TenantId, name: &str) -> Self {
        self.tenant = Some(TenantNav {
            id: id.to_string(),
            name: name.to_owned(),
        });
        self
    }
}

/// May the signed-in user do `action` in `tenant`? (Only to show or hide
/// controls: the services decide.)
pub fn may(s: &SignedIn, tenant: &TenantId, action: Action) -> bool {
    s.caller().check(tenant, action).is_ok()
}

/// The client type as the console's URLs and filter name it.
pub fn kind_slug(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::ClientCredentials => "client-credentials",
        ClientKind::Hybrid => "hybrid",
    }
}

pub fn kind_label(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::ClientCredentials => "Client credentials",
        ClientKind::Hybrid => "Hybrid",
    }
}

pub fn parse_kind(slug: &str) -> Option<ClientKind> {
    match slug {
        "client-credentials" => Some(ClientKind::ClientCredentials),
        "hybrid" => Some(ClientKind::Hybrid),
        _ => None,
    }
}

/// The built-in roles as the console offers them.
pub const ROLES: [(&str, &str); 3] = [
    ("tenant-administrator", "Tenant Administrator"),
    ("tenant-member", "Tenant Member"),
    ("tenant-auditor", "Tenant Auditor"),
];

pub fn role_label(id: &str) -> &str {
    match id {
        "account-administrator" => "Account Administrator",
        _ => ROLES
            .iter()
            .find(|(r, _)| *r == id)
            .map_or(id, |(_, label)| label),
    }
}

/// A service failure as a sentence for the error box above a form.
pub fn service_message(e: &ServiceError) -> String {
    match e {
        ServiceError::Invalid(v) => {
            let field = match v.field {
                "Expires" | "SecretExpires" => "Never expires",
                "Expiration" | "SecretExpirationDate" => "Expiration",
                "SecretDescription" => "Description",
                "AccessTokenLifetime" => "Access token lifetime",
                "RoleIds" => "Roles",
                "RedirectUris" => "Redirect URIs",
                "PostLogoutRedirectUris" => "Post-logout redirect URIs",
                "ClientUri" => "Client URI",
                "LogoUri" => "Logo URI",
                "GracePeriodSeconds" => "Grace period",
                other => other,
            };
            format!("{field}: {}", v.reason)
        }
        ServiceError::SecretLimitReached(max) => format!(
            "This client already has the maximum of {max} secrets. Delete a secret it no longer \
             uses before adding another."
        ),
        ServiceError::ClientLimitReached(max) => {
            format!("This tenant already has the maximum of {max} clients.")
        }
        ServiceError::WebhookLimitReached(max) => {
            format!("This tenant already has the maximum of {max} webhooks.")
        }
        ServiceError::DuplicateClient => {
            "A client with this Id already exists in the tenant: choose another Id.".into()
        }
        ServiceError::DuplicateTenant => {
            "Name: another tenant already has this name; choose another.".into()
        }
        ServiceError::Forbidden => "You do not have permission to do this.".into(),
        ServiceError::SelfRotation(refusal) => format!("{refusal}."),
        ServiceError::Unauthenticated => "You are not signed in.".into(),
        ServiceError::RotationRefused(reason) => format!("{reason}."),
        e @ ServiceError::DeliveryInFlight => format!("{e}."),
        ServiceError::Contended => {
            "Others are changing this secret right now; nothing was changed. Try again.".into()
        }
        ServiceError::Unavailable(_) => {
            "The database is unreachable right now. Try again in a moment.".into()
        }
        ServiceError::TooManyAttempts(wait) => format!(
            "Too many lookups found nothing. Try again in {} seconds.",
            wait.as_secs().max(1)
        ),
        ServiceError::TenantNotFound => "No such tenant.".into(),
        ServiceError::ClientNotFound => "No such client.".into(),
        ServiceError::SecretNotFound => "No such secret (it may have been deleted).".into(),
        ServiceError::NotFound(what) => format!("No such {what} (it may have been deleted)."),
        ServiceError::Busy => "The server is busy; try again shortly.".into(),
        ServiceError::Internal(_) => "Something went wrong; try again.".into(),
    }
}

/// A row of the clients list.
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub created: String,
}

impl From<&ClientRecord> for ClientRow {
    fn from(c: &ClientRecord) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.settings.name.clone(),
            enabled: c.settings.enabled,
            created: date_utc(c.created_at),
        }
    }
}

/// A row of the Secrets tab: never the value, only its hint.
pub struct SecretRow {
    pub id: i32,
    pub description: String,
    /// DD/MM/YYYY UTC (the page's script shows it in the viewer's zone, named), or empty.
    pub expiration: String,
    /// RFC 3339, for the script, or empty.
    pub expiration_iso: String,
    pub hint: String,
    pub last_used: String,
    pub last_used_iso: String,
    pub status: &'static str,
    pub grace: String,
    /// See [`presentation_notes`].
    pub notes: Vec<String>,
}

impl SecretRow {
    pub fn new(s: &SecretRecord, now: DateTime<Utc>) -> Self {
        Self {
            id: s.id.0,
            description: s.description.clone(),
            expiration: s.expiration.map(date_utc).unwrap_or_default(),
            expiration_iso: s.expiration.map(|e| e.to_rfc3339()).unwrap_or_default(),
            hint: s.hint.clone(),
            last_used: s.last_used_at.map(date_utc).unwrap_or_default(),
            last_used_iso: s.last_used_at.map(|e| e.to_rfc3339()).unwrap_or_default(),
            status: match SecretStatus::at(s.expiration, now) {
                SecretStatus::Active => "Active",
                SecretStatus::Expired => "Expired",
            },
            grace: crate::domain::secret_status::active_grace(s.grace_until, now)
                .map(to_the_minute)
                .unwrap_or_default(),
            notes: presentation_notes(s, now),
        }
    }
}

/// What to know before ending a grace, renewing or deleting a secret: whether
/// the value in grace is still used since the Renew, and how often values of the
/// secret that no longer work were presented (when last, from where).
pub fn presentation_notes(s: &SecretRecord, now: DateTime<Utc>) -> Vec<String> {
    let mut notes = Vec::new();
    if crate::domain::secret_status::active_grace(s.grace_until, now).is_some() {
        notes.push(match s.previous_last_used_at {
            Some(at) => format!(
                "The old value was last used {} (since the Renew).",
                to_the_minute(at)
            ),
            None => "The old value has not been used since the Renew.".into(),
        });
    }
    if s.refused.count > 0 {
        let when = s
            .refused
            .last_at
            .map(|at| format!(", last {}", to_the_minute(at)))
            .unwrap_or_default();
        let from = s
            .refused
            .last_from
            .as_deref()
            .map(|a| format!(" from {a}"))
            .unwrap_or_default();
        let times = if s.refused.count == 1 {
            "once"
        } else {
            "times"
        };
        let count = if s.refused.count == 1 {
            String::new()
        } else {
            format!("{} ", s.refused.count)
        };
        notes.push(format!(
            "A value that no longer works was presented {count}{times}{when}{from}."
        ));
    }
    notes
}

/// A day as the console shows it: `DD/MM/YYYY UTC` (the zone always named).
pub fn date_utc(at: DateTime<Utc>) -> String {
    format!("{} UTC", ddmmyyyy(at))
}

/// The id of the field the first error is about, so that a refused form
/// re-renders with the focus there. Errors read `Label: reason`; `fields` maps
/// label prefixes to field ids (longer prefixes first where one extends another).
pub fn first_field_in_error(
    errors: &[String],
    fields: &[(&str, &'static str)],
) -> Option<&'static str> {
    let first = errors.first()?;
    fields
        .iter()
        .find(|(label, _)| {
            first
                .strip_prefix(label)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', ' ', ',', '.']))
        })
        .map(|(_, id)| *id)
}

fn to_the_minute(at: DateTime<Utc>) -> String {
    at.format("%d/%m/%Y %H:%M UTC").to_string()
}

/// The one time a secret value is rendered: the show-once dialog.
pub struct ShownOnce {
    pub heading: String,
    pub value: zeroize::Zeroizing<String>,
    pub description: String,
    pub expiration: String,
    /// RFC 3339, for the script to show the date in the viewer's zone.
    pub expiration_iso: String,
    pub continue_href: String,
}
