//! The source of the current time, shared by the services and the background
//! workers of `notify/` (which must not depend on the services): injectable, so
//! tests and schedulers can drive it.

use chrono::{DateTime, SubsecRound, Utc};

/// The source of the current time, injectable so tests and schedulers can drive it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, to the microsecond: the precision both databases keep, so a
/// timestamp reads back exactly as it was returned.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
