//! The estate at a glance: how a tenant's live secrets divide by state, and how
//! many expire in each of the next weeks. The windows are fixed here, from `now`,
//! so the API, the console and their links to the filtered inventory agree.

use chrono::{DateTime, Duration, Utc};

/// Weeks ahead the expiration chart covers.
pub const WEEKS: usize = 12;
/// "Expiring soon" and "expiring this month", in days.
pub const SOON_DAYS: u32 = 7;
pub const MONTH_DAYS: u32 = 30;
/// "Still presented after rotation": a refused former value within this many days.
pub const PRESENTED_DAYS: u32 = 7;

/// The instants a summary is counted at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryWindows {
    pub now: DateTime<Utc>,
    pub soon: DateTime<Utc>,
    pub month: DateTime<Utc>,
    pub presented_since: DateTime<Utc>,
    /// `WEEKS + 1` boundaries: week `i` is `(weeks[i], weeks[i + 1]]`.
    pub weeks: [DateTime<Utc>; WEEKS + 1],
}

impl SummaryWindows {
    pub fn at(now: DateTime<Utc>) -> Self {
        let days = |n: u32| Duration::days(i64::from(n));
        Self {
            now,
            soon: now + days(SOON_DAYS),
            month: now + days(MONTH_DAYS),
            presented_since: now - days(PRESENTED_DAYS),
            weeks: std::array::from_fn(|i| now + Duration::weeks(i as i64)),
        }
    }
}

/// Counts of a tenant's live (non-revoked) secrets. A secret counts in every
/// line that describes it (an expired secret that was never used is in both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretSummary {
    pub active: i64,
    pub expiring_soon: i64,
    pub expiring_this_month: i64,
    pub expired: i64,
    pub never_used: i64,
    /// Reported by a scanner under the `alert` policy, not rotated since.
    pub leaked: i64,
    /// A former value presented (and refused) in the last [`PRESENTED_DAYS`].
    pub presented_after_rotation: i64,
    /// Expirations in each of the next [`WEEKS`] weeks.
    pub expirations_per_week: [i64; WEEKS],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_contiguous_from_now() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = SummaryWindows::at(now);
        assert_eq!(w.weeks[0], now);
        assert_eq!(w.weeks[WEEKS], now + Duration::days(84));
        assert!(w.weeks.windows(2).all(|p| p[1] - p[0] == Duration::days(7)));
        assert_eq!((w.soon - now).num_days(), 7);
        assert_eq!((w.month - now).num_days(), 30);
        assert_eq!((now - w.presented_since).num_days(), 7);
    }
}
