//! Expiry: policies (unit + duration) and the rule that turns a request's
//! `Expires` / `Expiration` into a secret's expiration.
//!
//! | Expires     | Expiration | result                                                   |
//! |-------------|------------|----------------------------------------------------------|
//! | false       | any        | never expires (400 when a maximum lifetime is set)       |
//! | true / null | set        | expires then: future, within the maximum lifetime        |
//! | null        | null       | from the effective policy; never when its unit is NONE   |
//! | true        | null       | from the effective policy; 400 when its unit is NONE     |
//!
//! An explicit `Expiration` is refused past [`LATEST_EXPIRATION`]
//! (9999-12-31T23:59:59Z): later instants do not have a four-digit year, so
//! stored as text (SQLite) they would no longer sort in time order.
//!
//! Time is an argument: nothing here reads the clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Months, SecondsFormat, SubsecRound, Utc};

use super::ValidationError;

/// The latest explicit expiration accepted: 9999-12-31T23:59:59Z.
pub const LATEST_EXPIRATION: DateTime<Utc> = match DateTime::from_timestamp(253_402_300_799, 0) {
    Some(at) => at,
    None => DateTime::<Utc>::MIN_UTC,
};

/// The unit of an expiry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryUnit {
    None,
    Days,
    Weeks,
    Months,
    Years,
}

impl ExpiryUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Days => "DAYS",
            Self::Weeks => "WEEKS",
            Self::Months => "MONTHS",
            Self::Years => "YEARS",
        }
    }

    /// Case-insensitive; singular forms accepted (`day` = `DAYS`), nothing else
    /// (`DAYSS` is no unit).
    pub fn parse(s: &str) -> Option<Self> {
        let upper = s.to_ascii_uppercase();
        match upper.strip_suffix('S').unwrap_or(&upper) {
            "NONE" | "NEVER" => Some(Self::None),
            "DAY" => Some(Self::Days),
            "WEEK" => Some(Self::Weeks),
            "MONTH" => Some(Self::Months),
            "YEAR" => Some(Self::Years),
            _ => None,
        }
    }
}

/// How long new and renewed secrets live: a unit and a duration, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryPolicy {
    unit: ExpiryUnit,
    duration: u32,
}

/// The largest duration per unit: about 100 years, beyond which a policy is absurd.
fn max_duration(unit: ExpiryUnit) -> u32 {
    match unit {
        ExpiryUnit::None => 0,
        ExpiryUnit::Days => 36_500,
        ExpiryUnit::Weeks => 5_200,
        ExpiryUnit::Months => 1_200,
        ExpiryUnit::Years => 100,
    }
}

impl ExpiryPolicy {
    pub const NEVER: Self = Self {
        unit: ExpiryUnit::None,
        duration: 0,
    };
    /// The shipped default: one year.
    pub const ONE_YEAR: Self = Self {
        unit: ExpiryUnit::Years,
        duration: 1,
    };

    /// A policy; the duration must be 1..=about 100 years for a unit other than NONE.
    pub fn new(unit: ExpiryUnit, duration: u32) -> Result<Self, String> {
        if unit == ExpiryUnit::None {
            return Ok(Self::NEVER);
        }
        let max = max_duration(unit);
        if duration == 0 || duration > max {
            return Err(format!(
                "duration must be 1 to {max} {} (got {duration})",
                unit.as_str()
            ));
        }
        Ok(Self { unit, duration })
    }

    pub fn unit(&self) -> ExpiryUnit {
        self.unit
    }

    pub fn duration(&self) -> u32 {
        self.duration
    }

    /// The expiration of a secret created or renewed at `now`; `None` = never.
    pub fn expiration_from(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let n = self.duration;
        match self.unit {
            ExpiryUnit::None => None,
            ExpiryUnit::Days => now.checked_add_signed(Duration::days(n.into())),
            ExpiryUnit::Weeks => now.checked_add_signed(Duration::weeks(n.into())),
            ExpiryUnit::Months => now.checked_add_months(Months::new(n)),
            ExpiryUnit::Years => now.checked_add_months(Months::new(n.saturating_mul(12))),
        }
    }
}

impl fmt::Display for ExpiryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            ExpiryUnit::None => f.write_str("NONE"),
            unit => write!(f, "{} {}", self.duration, unit.as_str()),
        }
    }
}

/// Parses `NONE` or `<n> <unit>` (`1 YEARS`, `90 days`, `6 month`).
impl FromStr for ExpiryPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if ExpiryUnit::parse(s) == Some(ExpiryUnit::None) {
            return Ok(Self::NEVER);
        }
        let mut parts = s.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "expected NONE or \"<number> DAYS|WEEKS|MONTHS|YEARS\", got {s:?}"
            ));
        };
        let n: u32 = n
            .parse()
            .map_err(|_| format!("{n:?} is not a whole number of units"))?;
        let unit = ExpiryUnit::parse(unit)
            .ok_or_else(|| format!("unknown unit {unit:?}: use DAYS, WEEKS, MONTHS or YEARS"))?;
        if unit == ExpiryUnit::None {
            return Err("NONE takes no number".into());
        }
        Self::new(unit, n)
    }
}

/// What a request says about expiry (both optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryRequest {
    pub expires: Option<bool>,
    pub expiration: Option<DateTime<Utc>>,
}

/// The rules a secret's expiration is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryRules {
    pub policy: ExpiryPolicy,
    /// Counted from `now` (creation or renewal).
    pub max_lifetime: Option<Duration>,
}

/// What a Renew asks for: as given, except that a Renew naming no expiration
/// keeps a secret that never expires never expiring — unless a maximum lifetime
/// requires one (then the policy's default applies, as for a new secret).
pub fn renewal(
    req: ExpiryRequest,
    current: Option<DateTime<Utc>>,
    rules: &ExpiryRules,
) -> ExpiryRequest {
    let unspecified = req.expires.is_none() && req.expiration.is_none();
    if unspecified && current.is_none() && rules.max_lifetime.is_none() {
        ExpiryRequest {
            expires: Some(false),
            expiration: None,
        }
    } else {
        req
    }
}

/// Resolves the expiration of a secret created or renewed at `now` (`None` = never).
pub fn resolve(
    req: ExpiryRequest,
    rules: ExpiryRules,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    let latest = rules
        .max_lifetime
        .and_then(|max| now.checked_add_signed(max));
    match (req.expires, req.expiration) {
        (Some(false), _) => match latest {
            Some(_) => Err(ValidationError::new(
                "Expires",
                "secrets must expire: the tenant sets a maximum lifetime",
            )),
            None => Ok(None),
        },
        (_, Some(at)) => {
            if at <= now {
                return Err(ValidationError::new("Expiration", "must be in the future"));
            }
            if at > LATEST_EXPIRATION {
                return Err(ValidationError::new(
                    "Expiration",
                    "must not be later than 9999-12-31T23:59:59Z",
                ));
            }
            if let Some(latest) = latest
                && at > latest
            {
                return Err(ValidationError::new(
                    "Expiration",
                    format!(
                        "must not be later than the tenant's maximum lifetime ({})",
                        latest.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ),
                ));
            }
            // Microseconds: the precision both databases keep.
            Ok(Some(at.trunc_subsecs(6)))
        }
        (expires, None) => {
            let from_policy = rules.policy.expiration_from(now);
            match (from_policy, expires) {
                (None, Some(true)) => Err(ValidationError::new(
                    "Expiration",
                    "is required when Expires is true and the expiry policy is NONE",
                )),
                (None, _) if latest.is_some() => Ok(latest),
                (Some(at), _) => Ok(Some(latest.map_or(at, |latest| at.min(latest)))),
                (None, _) => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap()
    }

    fn rules(policy: ExpiryPolicy) -> ExpiryRules {
        ExpiryRules {
            policy,
            max_lifetime: None,
        }
    }

    fn req(expires: Option<bool>, expiration: Option<DateTime<Utc>>) -> ExpiryRequest {
        ExpiryRequest {
            expires,
            expiration,
        }
    }

    type Row = (
        Option<bool>,
        Option<DateTime<Utc>>,
        ExpiryPolicy,
        Result<Option<DateTime<Utc>>, &'static str>,
    );

    #[test]
    fn the_expiry_table_of_spec_section_3() {
        let future = now() + Duration::days(10);
        let past = now() - Duration::seconds(1);
        let year = ExpiryPolicy::ONE_YEAR;
        let in_a_year = Utc.with_ymd_and_hms(2027, 1, 31, 12, 0, 0).unwrap();
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            // Expires false: never, a given Expiration ignored.
            (Some(false), None, year, Ok(None)),
            (Some(false), Some(future), year, Ok(None)),
            (Some(false), Some(past), year, Ok(None)),
            // Expires true or null with an Expiration: that instant, if in the future.
            (Some(true), Some(future), year, Ok(Some(future))),
            (None, Some(future), ExpiryPolicy::NEVER, Ok(Some(future))),
            (None, Some(past), year, Err("Expiration")),
            (Some(true), Some(now()), year, Err("Expiration")),
            // Both null: the policy; never under NONE.
            (None, None, year, Ok(Some(in_a_year))),
            (None, None, ExpiryPolicy::NEVER, Ok(None)),
            // Expires true, no Expiration: the policy; 400 under NONE.
            (Some(true), None, year, Ok(Some(in_a_year))),
            (Some(true), None, ExpiryPolicy::NEVER, Err("Expiration")),
        ];
        for (expires, expiration, policy, want) in rows {
            let got = resolve(req(expires, expiration), rules(policy), now()).map_err(|e| e.field);
            assert_eq!(
                got, want,
                "Expires={expires:?} Expiration={expiration:?} policy={policy}"
            );
        }
    }

    type Outcome = Result<Option<DateTime<Utc>>, &'static str>;

    #[test]
    fn explicit_expirations_end_at_the_last_second_of_year_9999() {
        let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(LATEST_EXPIRATION, last);
        let at = |y: i32| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap();
        #[rustfmt::skip]
        let rows: Vec<(Option<bool>, DateTime<Utc>, Outcome)> = vec![
            (None, last, Ok(Some(last))),
            (Some(true), last, Ok(Some(last))),
            (None, last + Duration::milliseconds(500), Err("Expiration")),
            (None, last + Duration::seconds(1), Err("Expiration")),
            (Some(true), at(10_000), Err("Expiration")),
            (None, at(262_142), Err("Expiration")),
            (None, DateTime::<Utc>::MAX_UTC, Err("Expiration")),
            // Expires false ignores the Expiration, however far.
            (Some(false), at(262_142), Ok(None)),
        ];
        for (expires, expiration, want) in rows {
            let got = resolve(
                req(expires, Some(expiration)),
                rules(ExpiryPolicy::ONE_YEAR),
                now(),
            )
            .map_err(|e| e.field);
            assert_eq!(got, want, "Expires={expires:?} Expiration={expiration}");
        }
    }

    #[test]
    fn maximum_lifetime_bounds_every_row() {
        let r = ExpiryRules {
            policy: ExpiryPolicy::ONE_YEAR,
            max_lifetime: Some(Duration::days(90)),
        };
        let limit = now() + Duration::days(90);
        assert_eq!(
            resolve(req(Some(false), None), r, now()).unwrap_err().field,
            "Expires"
        );
        assert_eq!(
            resolve(req(None, Some(limit + Duration::seconds(1))), r, now())
                .unwrap_err()
                .field,
            "Expiration"
        );
        assert_eq!(resolve(req(None, Some(limit)), r, now()), Ok(Some(limit)));
        assert_eq!(resolve(req(None, None), r, now()), Ok(Some(limit)));
        let never = ExpiryRules {
            policy: ExpiryPolicy::NEVER,
            ..r
        };
        assert_eq!(resolve(req(None, None), never, now()), Ok(Some(limit)));
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_month_end() {
        let p: ExpiryPolicy = "1 MONTHS".parse().unwrap();
        assert_eq!(
            p.expiration_from(now()),
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap())
        );
    }

    #[test]
    fn policies_parse_from_configuration_text() {
        assert_eq!("NONE".parse::<ExpiryPolicy>(), Ok(ExpiryPolicy::NEVER));
        assert_eq!(
            "1 YEARS".parse::<ExpiryPolicy>(),
            Ok(ExpiryPolicy::ONE_YEAR)
        );
        assert_eq!("1 year".parse::<ExpiryPolicy>(), Ok(ExpiryPolicy::ONE_YEAR));
        assert_eq!(
            "90 days".parse::<ExpiryPolicy>().map(|p| p.to_string()),
            Ok("90 DAYS".to_owned())
        );
        for bad in [
            "",
            "0 DAYS",
            "7 FORTNIGHTS",
            "x DAYS",
            "101 YEARS",
            "1",
            "1 DAYS extra",
            "1 DAYSS",
            "NON",
        ] {
            assert!(bad.parse::<ExpiryPolicy>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_renew_keeps_never_expiring_unless_asked_or_capped() {
        let now = Utc::now();
        let rules = ExpiryRules {
            policy: ExpiryPolicy::ONE_YEAR,
            max_lifetime: None,
        };
        let none = ExpiryRequest::default();
        let kept = renewal(none, None, &rules);
        assert_eq!(kept.expires, Some(false), "never expiring stays so");
        assert_eq!(resolve(kept, rules, now).unwrap(), None);
        let expiring = renewal(none, Some(now), &rules);
        assert_eq!(
            expiring, none,
            "an expiring secret gets the policy's default"
        );
        let asked = ExpiryRequest {
            expires: Some(true),
            expiration: None,
        };
        assert_eq!(
            renewal(asked, None, &rules),
            asked,
            "an explicit request wins"
        );
        let capped = ExpiryRules {
            max_lifetime: Some(Duration::days(30)),
            ..rules
        };
        assert_eq!(
            renewal(none, None, &capped),
            none,
            "a maximum lifetime requires an expiration"
        );
    }
}
