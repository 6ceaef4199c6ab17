//! The `notifications` section of the configuration. Today `notifications.email`: the
//! SMTP settings, whose shape and rules live in [`crate::notify::email`]; this module wires
//! them in (the section, its environment keys, the password read verbatim from the
//! environment) so that config.rs only lists the section.

use serde::{Deserialize, Serialize};

use super::{ConfigError, bad};
use crate::notify::email::{EmailSettings, SmtpPassword};
use crate::notify::settings::{
    ExpiredSection, ExpiringSection, NotificationSettings, WebhooksSection, validate_schedule,
};

/// `notifications`: how Latchkey tells people about expiring secrets.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct NotificationsSection {
    /// SMTP; absent (no `host`) means no email. Never serialised: it holds a password.
    #[serde(skip_serializing)]
    pub(super) email: Option<EmailSettings>,
    pub(super) expiring: ExpiringSection,
    pub(super) expired: ExpiredSection,
    pub(super) webhooks: WebhooksSection,
}

impl NotificationsSection {
    /// The validated schedule of expiry checks and webhook retries.
    pub(super) fn schedule(&self) -> Result<NotificationSettings, (&'static str, String)> {
        validate_schedule(&self.expiring, &self.expired, &self.webhooks)
    }
}

/// The `notifications.email.*` keys, for case-insensitive environment overrides.
pub(super) const EMAIL_KEYS: [&str; 9] = [
    "notifications",
    "notifications.email",
    "notifications.email.host",
    "notifications.email.port",
    "notifications.email.tls",
    "notifications.email.username",
    "notifications.email.password",
    "notifications.email.from",
    "notifications.email.timeoutSeconds",
];

/// `LATCHKEY_NOTIFICATIONS__EMAIL__PASSWORD` (any case), kept out of figment, which would
/// parse `123`, `true` or `[x` into a number, a boolean or an array.
const SMTP_PASSWORD_VARIABLE: &str = "LATCHKEY_NOTIFICATIONS__EMAIL__PASSWORD";

pub(super) fn smtp_password_from_environment() -> Option<String> {
    std::env::vars_os()
        .find(|(k, _)| {
            k.to_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(SMTP_PASSWORD_VARIABLE))
        })
        .and_then(|(_, v)| v.into_string().ok())
}

/// Validates `notifications.email`; the environment's password beats the file's.
pub(super) fn email_settings(
    section: Option<EmailSettings>,
    password: Option<String>,
) -> Result<Option<EmailSettings>, ConfigError> {
    let Some(mut email) = section else {
        return match password {
            Some(_) => Err(bad(
                "notifications.email.host",
                format!("is required when {SMTP_PASSWORD_VARIABLE} is set"),
            )),
            None => Ok(None),
        };
    };
    if let Some(password) = password {
        email.password = Some(SmtpPassword::new(password));
    }
    email.validate().map_err(|e| ConfigError(e.to_string()))?;
    Ok(Some(email))
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::Serialized;

    use crate::config::file::{FileConfig, Secrets, Yaml, canonical_key, describe};
    use crate::config::{ConfigError, ServeArgs, Settings};

    fn args() -> ServeArgs {
        ServeArgs {
            listen: None,
            database: None,
            config: None,
            public_url: None,
        }
    }

    /// The file and defaults as figment merges them (no environment).
    fn from_yaml(yaml: &str) -> Result<FileConfig, ConfigError> {
        Figment::from(Serialized::defaults(FileConfig::default()))
            .merge(figment::providers::Data::<Yaml>::string(yaml))
            .extract()
            .map_err(describe)
    }

    #[test]
    fn email_is_off_without_a_section() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert!(s.email.is_none());
        let f = from_yaml("notifications: {}\n").unwrap();
        assert!(f.notifications.email.is_none());
    }

    #[test]
    fn email_section_reads_with_defaults_and_validates() {
        let yaml = "notifications:\n  email:\n    host: smtp.example.com\n    from: \"Latchkey <lk@example.com>\"\n    username: mailer\n    password: 123456\n";
        let s = Settings::validate(&args(), from_yaml(yaml).unwrap(), Secrets::default()).unwrap();
        let email = s.email.unwrap();
        assert_eq!(email.host, "smtp.example.com");
        assert_eq!(email.port(), 587);
        assert_eq!(email.timeout_seconds, 30);
        assert_eq!(email.username.as_deref(), Some("mailer"));
        assert!(!format!("{email:?}").contains("123456"));
    }

    #[test]
    fn email_errors_name_their_key() {
        let base =
            "notifications:\n  email:\n    host: smtp.example.com\n    from: lk@example.com\n";
        for (extra, key) in [
            ("    tls: ssl\n", "notifications.email.tls"),
            ("    port: many\n", "notifications.email.port"),
            ("    username: mailer\n", "notifications.email.password"),
            (
                "    timeoutSeconds: 0\n",
                "notifications.email.timeoutSeconds",
            ),
            ("    pasword: x\n", "notifications.email"),
        ] {
            let e = from_yaml(&format!("{base}{extra}"))
                .and_then(|f| Settings::validate(&args(), f, Secrets::default()))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{extra:?}: {e}");
        }
        let e = from_yaml("notifications:\n  email:\n    host: h\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("notifications.email") && e.contains("from"),
            "{e}"
        );
    }

    #[test]
    fn the_environment_password_is_taken_verbatim_and_beats_the_file() {
        let yaml = "notifications:\n  email:\n    host: smtp.example.com\n    from: lk@example.com\n    username: mailer\n    password: from-file\n";
        let secrets = Secrets {
            smtp_password: Some("[not, an: array}".into()),
            ..Secrets::default()
        };
        let s = Settings::validate(&args(), from_yaml(yaml).unwrap(), secrets).unwrap();
        let email = s.email.unwrap();
        let password = email.password.unwrap();
        assert_eq!(format!("{password:?}"), "SmtpPassword(..)");
        let secrets = Secrets {
            smtp_password: Some("p".into()),
            ..Secrets::default()
        };
        let e = Settings::validate(&args(), FileConfig::default(), secrets)
            .unwrap_err()
            .to_string();
        assert!(e.contains("notifications.email.host"), "{e}");
        assert_eq!(
            canonical_key("NOTIFICATIONS.EMAIL.TIMEOUTSECONDS"),
            "notifications.email.timeoutSeconds"
        );
    }

    #[test]
    fn webhooks_per_tenant_default_to_20_and_zero_stops_start_up() {
        let s = Settings::validate(&args(), FileConfig::default(), Secrets::default()).unwrap();
        assert_eq!(s.limits.webhooks_max, 20);
        let yaml = "notifications:\n  webhooks:\n    maxPerTenant: 5\n";
        let s = Settings::validate(&args(), from_yaml(yaml).unwrap(), Secrets::default()).unwrap();
        assert_eq!(s.limits.webhooks_max, 5);
        let e = from_yaml("notifications:\n  webhooks:\n    maxPerTenant: 0\n")
            .and_then(|f| Settings::validate(&args(), f, Secrets::default()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("notifications.webhooks.maxPerTenant"), "{e}");
        assert_eq!(
            canonical_key("NOTIFICATIONS.WEBHOOKS.MAXPERTENANT"),
            "notifications.webhooks.maxPerTenant"
        );
    }
}
