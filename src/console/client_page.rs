//! The Edit Client page both its tabs render (Details and Secrets): the view
//! model, and the client's settings as the Details form shows and edits them.

use askama::Template;
use serde::Deserialize;

use super::extract::At;
use super::form::FormData;
use super::policy_form::{ClientPolicyCard, UNITS};
use super::secret_form::SecretForm;
use super::session::Signed;
use super::view::{Layout, ROLES, SecretRow, kind_label, kind_slug, may};
use crate::domain::access::Action;
use crate::service::ClientRecord;
use crate::service::clients::ClientPatch;

/// A client's settings as the Details tab edits them.
pub struct Details {
    pub name: String,
    pub enabled: bool,
    pub lifetime: String,
    pub tags: String,
    /// (role id, label, held)
    pub roles: Vec<(&'static str, &'static str, bool)>,
    pub hybrid: bool,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub client_uri: String,
    pub logo_uri: String,
    pub allow_offline_access: bool,
    pub allow_access_tokens_via_browser: bool,
    pub allow_self_rotation: bool,
}

impl Details {
    pub fn of(c: &ClientRecord) -> Self {
        let s = &c.settings;
        let h = s.hybrid.clone().unwrap_or_default();
        Self {
            name: s.name.clone(),
            enabled: s.enabled,
            lifetime: s.access_token_lifetime.to_string(),
            tags: s.tags.join(", "),
            roles: ROLES
                .iter()
                .map(|(id, label)| (*id, *label, s.role_ids.iter().any(|r| r == id)))
                .collect(),
            hybrid: s.hybrid.is_some(),
            redirect_uris: h.redirect_uris.join("\n"),
            post_logout_redirect_uris: h.post_logout_redirect_uris.join("\n"),
            client_uri: h.client_uri.unwrap_or_default(),
            logo_uri: h.logo_uri.unwrap_or_default(),
            allow_offline_access: h.allow_offline_access,
            allow_access_tokens_via_browser: h.allow_access_tokens_via_browser,
            allow_self_rotation: s.allow_self_rotation,
        }
    }

    /// The form as typed, so a refused Save shows what the user entered.
    pub fn from_form(form: &FormData, hybrid: bool) -> Self {
        let roles = form.all("role");
        Self {
            name: form.text("name"),
            enabled: form.checked("enabled"),
            lifetime: form.text("lifetime"),
            tags: form.text("tags"),
            roles: ROLES
                .iter()
                .map(|(id, label)| (*id, *label, roles.iter().any(|r| r == id)))
                .collect(),
            hybrid,
            redirect_uris: form.text("redirect_uris"),
            post_logout_redirect_uris: form.text("post_logout_redirect_uris"),
            client_uri: form.text("client_uri"),
            logo_uri: form.text("logo_uri"),
            allow_offline_access: form.checked("allow_offline_access"),
            allow_access_tokens_via_browser: form.checked("allow_access_tokens_via_browser"),
            allow_self_rotation: form.checked("allow_self_rotation"),
        }
    }

    pub fn patch(&self) -> Result<ClientPatch, String> {
        let lifetime: u32 = self.lifetime.parse().map_err(|_| {
            "Access token lifetime: enter a whole number of seconds (60 to 86400).".to_owned()
        })?;
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let hybrid = self.hybrid;
        Ok(ClientPatch {
            name: Some(self.name.clone()),
            enabled: Some(self.enabled),
            access_token_lifetime: Some(lifetime),
            tags: Some(
                self.tags
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            role_ids: Some(
                self.roles
                    .iter()
                    .filter(|(_, _, held)| *held)
                    .map(|(id, _, _)| (*id).to_owned())
                    .collect(),
            ),
            redirect_uris: hybrid.then(|| lines(&self.redirect_uris)),
            post_logout_redirect_uris: hybrid.then(|| lines(&self.post_logout_redirect_uris)),
            client_uri: hybrid.then(|| self.client_uri.clone()),
            logo_uri: hybrid.then(|| self.logo_uri.clone()),
            allow_offline_access: hybrid.then_some(self.allow_offline_access),
            allow_access_tokens_via_browser: hybrid.then_some(self.allow_access_tokens_via_browser),
            allow_self_rotation: Some(self.allow_self_rotation),
        })
    }
}

/// Edit Client: both tabs render this page.
#[derive(Template)]
#[template(path = "console/client.html")]
pub struct ClientPage {
    pub layout: Layout,
    pub base: String,
    pub list_href: String,
    pub client_id: String,
    pub kind_label: &'static str,
    pub tab: &'static str,
    pub dialog: &'static str,
    pub may_write: bool,
    pub may_read_secrets: bool,
    pub may_write_secrets: bool,
    pub details: Details,
    pub errors: Vec<String>,
    pub notice: String,
    /// What was typed in the Revoke client dialog (when refused).
    pub confirmation: String,
    pub secrets: Vec<SecretRow>,
    pub secrets_max: u32,
    pub secret: SecretForm,
    /// The Secret settings card (Secrets tab).
    pub policy: ClientPolicyCard,
    pub units: [(&'static str, &'static str); 5],
}

impl ClientPage {
    pub fn new(
        s: &Signed,
        layout: Layout,
        at: &At,
        client: &ClientRecord,
        tab: &'static str,
    ) -> Self {
        Self {
            layout,
            base: at.base(),
            list_href: format!(
                "/console/tenants/{}/clients?type={}",
                at.tenant,
                kind_slug(at.kind)
            ),
            client_id: client.id.to_string(),
            kind_label: kind_label(at.kind),
            tab,
            dialog: "",
            may_write: may(&s.0, &at.tenant, Action::WriteClients),
            may_read_secrets: may(&s.0, &at.tenant, Action::ReadSecrets),
            may_write_secrets: may(&s.0, &at.tenant, Action::WriteSecrets),
            details: Details::of(client),
            errors: Vec::new(),
            notice: String::new(),
            confirmation: String::new(),
            secrets: Vec::new(),
            secrets_max: 0,
            secret: SecretForm::default(),
            policy: ClientPolicyCard::default(),
            units: UNITS,
        }
    }
}

#[derive(Deserialize)]
pub struct DialogQuery {
    pub dialog: Option<String>,
    pub secret: Option<i32>,
    pub saved: Option<String>,
    /// `revoked` after a revoke.
    pub done: Option<String>,
    /// `gone` when a show-once page was loaded a second time.
    pub reveal: Option<String>,
}
