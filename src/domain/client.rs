//! Clients: their settings and the rules their fields follow.

use serde::{Deserialize, Serialize};

use super::ValidationError;

pub const NAME_MAX_LEN: usize = 200;
pub const DESCRIPTION_MAX_LEN: usize = 1024;
pub const LIFETIME_MIN: u32 = 60;
pub const LIFETIME_MAX: u32 = 86_400;
pub const LIFETIME_DEFAULT: u32 = 3_600;
pub const LIST_MAX_ITEMS: usize = 100;
pub const ITEM_MAX_LEN: usize = 200;
pub const URI_MAX_LEN: usize = 2_048;

/// The built-in role ids a client's tokens may carry.
pub const ROLE_IDS: [&str; 4] = [
    "tenant-administrator",
    "account-administrator",
    "tenant-member",
    "tenant-auditor",
];

/// Settings only hybrid clients have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HybridSettings {
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub allow_offline_access: bool,
    pub allow_access_tokens_via_browser: bool,
}

/// A client's editable settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub name: String,
    pub enabled: bool,
    pub access_token_lifetime: u32,
    pub tags: Vec<String>,
    pub role_ids: Vec<String>,
    /// `Some` exactly for hybrid clients.
    pub hybrid: Option<HybridSettings>,
    /// The client may renew its own secret with a token that secret's value issued
    /// (only where the tenant's policy allows self-rotation too).
    pub allow_self_rotation: bool,
}

impl ClientSettings {
    /// What changes from `self` to `new`, for the audit trail: each changed
    /// field by its API name, with old and new values where they are short and
    /// not sensitive (roles, enabled, lifetime, self-rotation); `None` when
    /// nothing changes.
    pub fn changes(&self, new: &Self) -> Option<String> {
        let mut changed = Vec::new();
        if self.name != new.name {
            changed.push("Name".to_owned());
        }
        if self.enabled != new.enabled {
            changed.push(format!("Enabled: {} → {}", self.enabled, new.enabled));
        }
        if self.access_token_lifetime != new.access_token_lifetime {
            changed.push(format!(
                "AccessTokenLifetime: {} → {}",
                self.access_token_lifetime, new.access_token_lifetime
            ));
        }
        if self.tags != new.tags {
            changed.push("Tags".to_owned());
        }
        if self.role_ids != new.role_ids {
            changed.push(format!(
                "RoleIds: [{}] → [{}]",
                self.role_ids.join(", "),
                new.role_ids.join(", ")
            ));
        }
        if self.hybrid != new.hybrid {
            changed.push("hybrid settings".to_owned());
        }
        if self.allow_self_rotation != new.allow_self_rotation {
            changed.push(format!(
                "AllowSelfRotation: {} → {}",
                self.allow_self_rotation, new.allow_self_rotation
            ));
        }
        (!changed.is_empty()).then(|| format!("changed {}", changed.join("; ")))
    }

    /// Checks every field; the first problem is reported with its field name.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_name(&self.name)?;
        validate_lifetime(self.access_token_lifetime)?;
        validate_list("Tags", &self.tags)?;
        validate_list("RoleIds", &self.role_ids)?;
        if let Some(role) = self
            .role_ids
            .iter()
            .find(|r| !ROLE_IDS.contains(&r.as_str()))
        {
            return Err(ValidationError::new(
                "RoleIds",
                format!("unknown role id {role:?}; known: {}", ROLE_IDS.join(", ")),
            ));
        }
        if let Some(h) = &self.hybrid {
            validate_uris("RedirectUris", &h.redirect_uris)?;
            validate_uris("PostLogoutRedirectUris", &h.post_logout_redirect_uris)?;
            if let Some(uri) = &h.client_uri {
                validate_uri("ClientUri", uri)?;
            }
            if let Some(uri) = &h.logo_uri {
                validate_uri("LogoUri", uri)?;
            }
        }
        Ok(())
    }
}

pub fn validate_name(name: &str) -> Result<(), ValidationError> {
    if name.trim().is_empty() {
        return Err(ValidationError::new("Name", "is required"));
    }
    reject_control_characters("Name", name, false)?;
    if name.chars().count() > NAME_MAX_LEN {
        return Err(ValidationError::new(
            "Name",
            format!("must be at most {NAME_MAX_LEN} characters"),
        ));
    }
    Ok(())
}

pub fn validate_lifetime(seconds: u32) -> Result<(), ValidationError> {
    if (LIFETIME_MIN..=LIFETIME_MAX).contains(&seconds) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "AccessTokenLifetime",
            format!("must be {LIFETIME_MIN} to {LIFETIME_MAX} seconds (got {seconds})"),
        ))
    }
}

/// A secret's description: at most 1024 characters, may be empty.
/// Control characters (NUL above all) corrupt logs and are refused by
/// PostgreSQL's text type; line breaks and tabs are allowed where `multiline`.
fn reject_control_characters(
    field: &'static str,
    s: &str,
    multiline: bool,
) -> Result<(), ValidationError> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

pub fn validate_description(field: &'static str, d: &str) -> Result<(), ValidationError> {
    reject_control_characters(field, d, true)?;
    if d.chars().count() > DESCRIPTION_MAX_LEN {
        return Err(ValidationError::new(
            field,
            format!("must be at most {DESCRIPTION_MAX_LEN} characters"),
        ));
    }
    Ok(())
}

fn validate_list(field: &'static str, items: &[String]) -> Result<(), ValidationError> {
    if items.len() > LIST_MAX_ITEMS {
        return Err(ValidationError::new(
            field,
            format!("must have at most {LIST_MAX_ITEMS} entries"),
        ));
    }
    if items
        .iter()
        .any(|i| i.trim().is_empty() || i.chars().count() > ITEM_MAX_LEN)
    {
        return Err(ValidationError::new(
            field,
            format!("entries must be 1 to {ITEM_MAX_LEN} characters"),
        ));
    }
    items
        .iter()
        .try_for_each(|i| reject_control_characters(field, i, false))
}

fn validate_uris(field: &'static str, uris: &[String]) -> Result<(), ValidationError> {
    if uris.len() > LIST_MAX_ITEMS {
        return Err(ValidationError::new(
            field,
            format!("must have at most {LIST_MAX_ITEMS} entries"),
        ));
    }
    uris.iter().try_for_each(|u| validate_uri(field, u))
}

/// An absolute URI: a scheme, then no whitespace (custom schemes allowed for apps).
fn validate_uri(field: &'static str, uri: &str) -> Result<(), ValidationError> {
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if uri.len() > URI_MAX_LEN
        || !scheme_ok
        || uri.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ValidationError::new(
            field,
            format!("{uri:?} is not an absolute URI of at most {URI_MAX_LEN} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ClientSettings {
        ClientSettings {
            name: "billing".into(),
            enabled: true,
            access_token_lifetime: LIFETIME_DEFAULT,
            tags: vec!["prod".into()],
            role_ids: vec!["tenant-member".into()],
            hybrid: Some(HybridSettings {
                redirect_uris: vec!["https://app.example/cb".into(), "myapp:/cb".into()],
                ..HybridSettings::default()
            }),
            allow_self_rotation: false,
        }
    }

    #[test]
    fn valid_settings_pass() {
        assert_eq!(settings().validate(), Ok(()));
    }

    type Mutation = Box<dyn Fn(&mut ClientSettings)>;

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(&str, Mutation)> = vec![
            ("Name", Box::new(|s| s.name = " ".into())),
            ("Name", Box::new(|s| s.name = "n".repeat(201))),
            (
                "AccessTokenLifetime",
                Box::new(|s| s.access_token_lifetime = 59),
            ),
            (
                "AccessTokenLifetime",
                Box::new(|s| s.access_token_lifetime = 86_401),
            ),
            ("Tags", Box::new(|s| s.tags = vec!["".into()])),
            ("Tags", Box::new(|s| s.tags = vec!["t".into(); 101])),
            ("Tags", Box::new(|s| s.tags = vec!["a\u{0}b".into()])),
            ("Name", Box::new(|s| s.name = "nul\u{0}".into())),
            ("RoleIds", Box::new(|s| s.role_ids = vec!["root".into()])),
            (
                "RedirectUris",
                Box::new(|s| s.hybrid.as_mut().unwrap().redirect_uris = vec!["no scheme".into()]),
            ),
            (
                "LogoUri",
                Box::new(|s| s.hybrid.as_mut().unwrap().logo_uri = Some("//x".into())),
            ),
        ];
        for (field, mutate) in cases {
            let mut s = settings();
            mutate(&mut s);
            assert_eq!(s.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn descriptions_are_limited_to_1024_characters() {
        assert!(validate_description("Description", &"d".repeat(1024)).is_ok());
        assert!(validate_description("Description", "two\nlines").is_ok());
        assert!(validate_description("Description", "nul\u{0}").is_err());
        assert_eq!(
            validate_description("Description", &"d".repeat(1025))
                .unwrap_err()
                .field,
            "Description"
        );
    }

    #[test]
    fn changes_name_each_field_with_roles_old_and_new() {
        let old = ClientSettings {
            name: "a".into(),
            enabled: true,
            access_token_lifetime: 3600,
            tags: vec![],
            role_ids: vec!["tenant-member".into()],
            hybrid: None,
            allow_self_rotation: false,
        };
        assert_eq!(old.changes(&old), None);
        let new = ClientSettings {
            name: "b".into(),
            enabled: false,
            role_ids: vec!["tenant-administrator".into()],
            ..old.clone()
        };
        assert_eq!(
            old.changes(&new).as_deref(),
            Some(
                "changed Name; Enabled: true → false; RoleIds: [tenant-member] → [tenant-administrator]"
            )
        );
    }
}
