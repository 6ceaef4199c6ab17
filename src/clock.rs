//! The source of the current time, shared by the services and the background
//! workers of `notify/` (which must not depend on the services): injectable, so
//! tests and schedulers can drive it. Also how a duration reads in a message
//! ([`Readable`]), for every layer that prints one.

use std::fmt;
use std::time::Duration;

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

/// A duration for people: two or three significant figures below a minute
/// (`0.42 ms`, `1.2 ms`, `340 ms`, `2.5 s`, `42 s`), then the two largest whole
/// units (`5m 30s`, `2h`, `24h`, `3d 04h`; days from 48 hours on). Formats only
/// when written, so a log line that is filtered out costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readable(pub Duration);

impl fmt::Display for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d < Duration::from_secs(60) {
            let ms = d.as_secs_f64() * 1000.0;
            return match ms {
                ms if ms < 1.0 => write!(f, "{ms:.2} ms"),
                ms if ms < 9.95 => write!(f, "{ms:.1} ms"),
                ms if ms < 999.5 => write!(f, "{ms:.0} ms"),
                ms if ms < 9_950.0 => write!(f, "{:.1} s", ms / 1000.0),
                ms => write!(f, "{:.0} s", ms / 1000.0),
            };
        }
        let secs = d.as_secs();
        let [(major, unit), (minor, minor_unit)] = if secs >= 48 * 3600 {
            [(secs / 86_400, "d"), (secs % 86_400 / 3600, "h")]
        } else if secs >= 3600 {
            [(secs / 3600, "h"), (secs % 3600 / 60, "m")]
        } else {
            [(secs / 60, "m"), (secs % 60, "s")]
        };
        if minor == 0 {
            write!(f, "{major}{unit}")
        } else {
            write!(f, "{major}{unit} {minor:02}{minor_unit}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_sensible_precision() {
        for (d, want) in [
            (Duration::from_micros(420), "0.42 ms"),
            (Duration::from_nanos(1_234_567), "1.2 ms"),
            (Duration::from_nanos(340_400_000), "340 ms"),
            (Duration::from_nanos(999_600_000), "1.0 s"),
            (Duration::from_nanos(1_234_567_891), "1.2 s"),
            (Duration::from_secs(42), "42 s"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(330), "5m 30s"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_secs(86_400), "24h"),
            (Duration::from_secs(9000), "2h 30m"),
            (Duration::from_secs(3 * 86_400 + 4 * 3600 + 5), "3d 04h"),
            (Duration::from_secs(7 * 86_400), "7d"),
        ] {
            assert_eq!(Readable(d).to_string(), want, "{d:?}");
        }
    }
}
