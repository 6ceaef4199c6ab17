//! What a secret's timestamps mean at a given instant.

use chrono::{DateTime, Utc};

/// A secret's status as reported to callers (a revoked secret is gone, not a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStatus {
    Active,
    Expired,
}

impl SecretStatus {
    /// Expired from the instant of its expiration on.
    pub fn at(expiration: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match expiration {
            Some(at) if at <= now => Self::Expired,
            _ => Self::Active,
        }
    }
}

/// Until when a replaced value still works, or `None` once that has passed.
pub fn active_grace(
    grace_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    grace_until.filter(|until| *until > now)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_secret_is_expired_from_its_expiration_instant() {
        let now = Utc::now();
        assert_eq!(SecretStatus::at(None, now), SecretStatus::Active);
        assert_eq!(
            SecretStatus::at(Some(now + Duration::seconds(1)), now),
            SecretStatus::Active
        );
        assert_eq!(SecretStatus::at(Some(now), now), SecretStatus::Expired);
    }

    #[test]
    fn grace_is_reported_only_while_it_lasts() {
        let now = Utc::now();
        assert_eq!(active_grace(Some(now), now), None);
        let later = now + Duration::seconds(5);
        assert_eq!(active_grace(Some(later), now), Some(later));
    }
}
