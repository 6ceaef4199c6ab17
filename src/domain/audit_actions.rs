//! Every action the audit trail records, in one list: the services write entries
//! only through [`AuditAction`], so the list the `action` filter checks against
//! (and names in its refusal) is complete by construction.

use super::access::Action;

macro_rules! audit_actions {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// An audited action, named `resource.verb` in entries and filters.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($variant),*
        }

        impl AuditAction {
            /// Every action, in the order the documentation lists them.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant),*];

            /// The action's name in entries and in the `action` filter.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name),*
                }
            }
        }
    };
}

audit_actions! {
    TenantList => "tenant.list",
    TenantCreate => "tenant.create",
    TenantRead => "tenant.read",
    TenantRename => "tenant.rename",
    TenantDelete => "tenant.delete",
    TenantPolicyUpdate => "tenant.policy.update",
    TenantLeakPolicyUpdate => "tenant.leak-policy.update",
    ClientsRead => "clients.read",
    ClientsWrite => "clients.write",
    ClientCreate => "client.create",
    ClientUpdate => "client.update",
    ClientPolicyUpdate => "client.policy.update",
    ClientRevoke => "client.revoke",
    SecretsRead => "secrets.read",
    SecretsWrite => "secrets.write",
    SecretCreate => "secret.create",
    SecretUpdate => "secret.update",
    SecretRenew => "secret.renew",
    SecretEndGrace => "secret.end-grace",
    SecretRevoke => "secret.revoke",
    SecretExpiring => "secret.expiring",
    SecretExpired => "secret.expired",
    SecretLeakReport => "secret.leak-report",
    SecretRefusedUse => "secret.refused-use",
    SecretLookup => "secret.lookup",
    TokenRequest => "token.request",
    WebhookCreate => "webhook.create",
    WebhookUpdate => "webhook.update",
    WebhookDelete => "webhook.delete",
    WebhookResend => "webhook.resend",
    RecipientsUpdate => "notifications.recipients.update",
    ScannerKeysReplace => "leaks.scanner-keys.replace",
    AuditRead => "audit.read",
    AuditOverflow => "audit.overflow",
}

impl AuditAction {
    /// Names entries were written under before the action took its current one:
    /// entries are never rewritten, so a filter matches these too.
    pub const fn former_names(self) -> &'static [&'static str] {
        match self {
            Self::ClientRevoke => &["client.delete"],
            _ => &[],
        }
    }

    /// Every name entries of this action may carry: its own, then former ones.
    pub fn stored_names(self) -> Vec<&'static str> {
        std::iter::once(self.as_str())
            .chain(self.former_names().iter().copied())
            .collect()
    }

    /// The action a name (any case, current or former) stands for.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL.iter().copied().find(|a| {
            a.as_str().eq_ignore_ascii_case(name)
                || a.former_names()
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(name))
        })
    }

    /// Every name, comma-separated, for messages.
    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A refusal of a tenant action is recorded under the action's own name.
impl From<Action> for AuditAction {
    fn from(action: Action) -> Self {
        match action {
            Action::ReadTenant => Self::TenantRead,
            Action::ReadClients => Self::ClientsRead,
            Action::WriteClients => Self::ClientsWrite,
            Action::ReadSecrets => Self::SecretsRead,
            Action::WriteSecrets => Self::SecretsWrite,
            Action::ReadAudit => Self::AuditRead,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_unique_and_parse_back_in_any_case() {
        let names: HashSet<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len());
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
            let upper = action.as_str().to_ascii_uppercase();
            assert_eq!(AuditAction::parse(&upper), Some(*action));
        }
        assert_eq!(AuditAction::parse("secret.delete"), None);
        // Removing a client is a revoke, like removing a secret; the former name
        // still finds the entries written under it.
        assert_eq!(
            AuditAction::parse("client.delete"),
            Some(AuditAction::ClientRevoke)
        );
        assert_eq!(
            AuditAction::ClientRevoke.stored_names(),
            ["client.revoke", "client.delete"]
        );
        assert!(AuditAction::names().contains("secret.revoke, secret.expiring"));
    }
}
