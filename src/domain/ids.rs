//! Identifiers as newtypes, so a tenant id cannot be passed where a client id is
//! expected. Each type validates on construction.

use std::fmt;

use uuid::Uuid;

use super::ValidationError;

/// A tenant's id: a GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(Uuid);

impl TenantId {
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// Parses a path segment; `None` when it is not a GUID (the caller answers 404).
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(Self)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for TenantId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A client's id, unique within its tenant. Supplied ids are 1–128 characters of
/// `A-Z a-z 0-9 - . _ ~` (safe in URLs and in HTTP Basic credentials); a generated
/// one is a GUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 128;

    pub fn generate() -> Self {
        Self(Uuid::new_v4().to_string())
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "Id",
                format!("must be 1 to {} characters long", Self::MAX_LEN),
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return Err(ValidationError::new(
                "Id",
                "may contain only letters, digits and - . _ ~",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret's id: per client, increasing from 1, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId(pub i32);

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of one secret *value* of one client *incarnation*: random, generated
/// with every new value (add, Renew, a supplied value set by update) and stored
/// beside its hash. Access tokens carry it (claim `cid`), so a token is honoured
/// only while that exact value works: a re-created client or a secret that gets
/// the same numeric id has new credential ids, and nothing revives an old token.
/// Not a secret (it travels in signed tokens), but unguessable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialId(Uuid);

impl CredentialId {
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// Parses the stored or claimed form (32 lower-case hex digits); `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32)
            .then(|| Uuid::try_parse(s).ok())
            .flatten()
            .map(Self)
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.simple().fmt(f)
    }
}

/// The two kinds of client, each with its own routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    ClientCredentials,
    Hybrid,
}

impl ClientKind {
    /// The value stored in the database.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Hybrid => "hybrid",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "client_credentials" => Some(Self::ClientCredentials),
            "hybrid" => Some(Self::Hybrid),
            _ => None,
        }
    }

    /// The path segment of the management API that names this kind.
    pub fn route_segment(self) -> &'static str {
        match self {
            Self::ClientCredentials => "ClientCredentialClients",
            Self::Hybrid => "HybridClients",
        }
    }

    /// The kind a path segment names (exact spelling).
    pub fn from_route_segment(s: &str) -> Option<Self> {
        [Self::ClientCredentials, Self::Hybrid]
            .into_iter()
            .find(|k| k.route_segment() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_accepts_url_safe_characters_only() {
        assert!(ClientId::parse("billing-service_v2.prod~a").is_ok());
        for bad in ["", "a b", "a/b", "a:b", "é", &"x".repeat(129)] {
            assert_eq!(ClientId::parse(bad).unwrap_err().field, "Id", "{bad:?}");
        }
    }

    #[test]
    fn credential_ids_round_trip_in_their_simple_form_only() {
        let id = CredentialId::generate();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(CredentialId::parse(&text), Some(id));
        assert_ne!(CredentialId::generate(), id);
        let hyphenated = Uuid::parse_str(&text).unwrap().hyphenated().to_string();
        for bad in ["", "x", hyphenated.as_str(), &"g".repeat(32)] {
            assert_eq!(CredentialId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tenant_id_parses_guids_only() {
        assert!(TenantId::parse("8d5c3f0e-4b2a-4c1d-9e8f-0a1b2c3d4e5f").is_some());
        assert!(TenantId::parse("not-a-guid").is_none());
    }
}
