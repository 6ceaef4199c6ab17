//! Who may do what: built-in tenant roles and the actions they allow.
//! Pure rules; the services ask [`Role::allows`] before acting.
//!
//! | action          | administrator | member | auditor |
//! |-----------------|---------------|--------|---------|
//! | ReadTenant      | yes           | yes    | yes     |
//! | ReadClients     | yes           | yes    | yes     |
//! | WriteClients    | yes           |        |         |
//! | ReadSecrets     | yes           |        | yes     |
//! | WriteSecrets    | yes           |        |         |
//! | ReadAudit       | yes           |        | yes     |
//!
//! Managing tenants themselves (list, create, delete) belongs to the platform
//! administrator alone, and no role reaches into another tenant.

/// The built-in role ids, as clients' `RoleIds` and token scopes name them.
pub const ROLE_IDS: [&str; 4] = crate::domain::client::ROLE_IDS;

/// Something a caller wants to do inside one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadTenant,
    ReadClients,
    WriteClients,
    ReadSecrets,
    WriteSecrets,
    ReadAudit,
}

impl Action {
    /// The action's name, as refused attempts are recorded in the audit trail.
    pub fn as_str(self) -> &'static str {
        super::audit_actions::AuditAction::from(self).as_str()
    }
}

/// A built-in tenant role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `tenant-administrator`, also accepted as `account-administrator`.
    Administrator,
    /// `tenant-member`.
    Member,
    /// `tenant-auditor`.
    Auditor,
}

impl Role {
    /// The role a role id names, if any (unknown ids grant nothing).
    pub fn from_id(id: &str) -> Option<Self> {
        match id {
            "tenant-administrator" | "account-administrator" => Some(Self::Administrator),
            "tenant-member" => Some(Self::Member),
            "tenant-auditor" => Some(Self::Auditor),
            _ => None,
        }
    }

    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Self::Administrator => true,
            Self::Member => matches!(action, ReadTenant | ReadClients),
            Self::Auditor => matches!(action, ReadTenant | ReadClients | ReadSecrets | ReadAudit),
        }
    }
}

/// True when any of `role_ids` allows `action`.
pub fn any_allows<S: AsRef<str>>(role_ids: &[S], action: Action) -> bool {
    role_ids
        .iter()
        .filter_map(|id| Role::from_id(id.as_ref()))
        .any(|role| role.allows(action))
}

/// The roles a token grants at the moment of use: those it was issued with that its
/// client still holds (never more than either), in the token's order.
pub fn roles_in_force<'a>(
    claimed: impl IntoIterator<Item = &'a str>,
    held: &[String],
) -> Vec<String> {
    claimed
        .into_iter()
        .filter(|r| held.iter().any(|h| h == r))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::*;

    #[test]
    fn a_token_grants_at_most_what_its_client_holds_now() {
        let held = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let claimed = ["tenant-administrator", "tenant-member"];
        for (now, want) in [
            (
                held(&["tenant-administrator", "tenant-member"]),
                claimed.to_vec(),
            ),
            (held(&["tenant-member"]), vec!["tenant-member"]),
            (
                held(&["tenant-member", "tenant-auditor"]),
                vec!["tenant-member"],
            ),
            (held(&[]), vec![]),
        ] {
            assert_eq!(roles_in_force(claimed, &now), want, "client holds {now:?}");
        }
    }

    #[test]
    fn the_role_table_of_spec_section_5() {
        #[rustfmt::skip]
        let rows = [
            // action,      admin, member, auditor
            (ReadTenant,    true,  true,   true),
            (ReadClients,   true,  true,   true),
            (WriteClients,  true,  false,  false),
            (ReadSecrets,   true,  false,  true),
            (WriteSecrets,  true,  false,  false),
            (ReadAudit,     true,  false,  true),
        ];
        for (action, admin, member, auditor) in rows {
            assert_eq!(Role::Administrator.allows(action), admin, "{action:?}");
            assert_eq!(Role::Member.allows(action), member, "{action:?}");
            assert_eq!(Role::Auditor.allows(action), auditor, "{action:?}");
        }
    }

    #[test]
    fn account_administrator_is_the_same_role_and_unknown_ids_grant_nothing() {
        assert_eq!(
            Role::from_id("account-administrator"),
            Some(Role::Administrator)
        );
        assert!(any_allows(&["account-administrator"], WriteSecrets));
        assert!(!any_allows(&["root", "Tenant-Administrator"], ReadTenant));
        assert!(!any_allows::<&str>(&[], ReadTenant));
    }
}
