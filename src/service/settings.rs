//! The settings the services run with: limits and policies they enforce, the
//! token endpoint's throttling and logging, the bound on Argon2id work, and the
//! console's session settings.
//!
//! The services own these types; the configuration (`crate::config`) reads the
//! keys, validates them into these values and the composition root hands them
//! over. Nothing here reads a file or the environment.

use std::fmt;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::domain::expiry::ExpiryPolicy;
use crate::domain::signing_keys::KeySchedule;
use crate::domain::webhook_target::TargetPolicy;

/// Limits and policies the services enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub secrets_max: u32,
    pub clients_max: u32,
    pub default_expiry: ExpiryPolicy,
    pub max_grace_period: Duration,
    /// Which webhook URLs subscriptions may name.
    pub webhook_targets: TargetPolicy,
    /// `audit.refusalsPerTenantPerMinute`: distinct refusal entries a tenant's
    /// trail takes per minute (identical ones fold); more are only counted.
    pub refusals_per_tenant_per_minute: u32,
    /// Webhook subscriptions a tenant may hold.
    pub webhooks_max: u32,
    /// How much Argon2id work presented values may cause at once.
    pub argon2: Argon2Bound,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            secrets_max: 10,
            clients_max: 50_000,
            default_expiry: ExpiryPolicy::ONE_YEAR,
            max_grace_period: Duration::from_secs(7 * 24 * 3600),
            webhook_targets: TargetPolicy::default(),
            refusals_per_tenant_per_minute: 100,
            webhooks_max: crate::notify::settings::DEFAULT_WEBHOOKS_MAX,
            argon2: Argon2Bound::default(),
        }
    }
}

/// Argon2id checks of presented values: at most `concurrency` run at once
/// (19 MiB each), at most `queue` more wait for a run; beyond that a check is
/// refused at once instead of queueing without bound (`argon2.concurrency`,
/// `argon2.queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Bound {
    pub concurrency: u32,
    pub queue: u32,
}

impl Default for Argon2Bound {
    /// One run per CPU, at most [`DEFAULT_MAX_ARGON2_RUNS`] (each run holds a 19 MiB
    /// buffer of the fixed pool; a verified supplied value is then checked by HMAC,
    /// so more runs would add memory, not throughput), and four waiting per CPU.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 1024);
        let cpus = u32::try_from(cpus).unwrap_or(1);
        Self {
            concurrency: cpus.min(DEFAULT_MAX_ARGON2_RUNS),
            queue: 4 * cpus,
        }
    }
}

/// The default's cap on concurrent Argon2id runs: 2 × 19 MiB keeps the pool well
/// under 64 MiB whatever the number of CPUs (`argon2.concurrency` may set more).
pub const DEFAULT_MAX_ARGON2_RUNS: u32 = 2;

/// Token endpoint settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    pub last_used_interval: Duration,
    pub failed_attempts_per_client: u32,
    pub failed_attempts_per_address: u32,
    /// `logging.tokenSuccessLevel: info`: successful token requests are logged at
    /// `info` (by default at `debug`, so the log does not grow with the traffic).
    pub successes_at_info: bool,
    /// `tokens.signingKeyRotation` and `tokens.signingKeyOverlap`.
    pub key_schedule: KeySchedule,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            last_used_interval: Duration::from_secs(60),
            failed_attempts_per_client: 10,
            failed_attempts_per_address: 100,
            successes_at_info: false,
            key_schedule: KeySchedule::default(),
        }
    }
}

/// Web console settings.
#[derive(Clone)]
pub struct ConsoleSettings {
    /// A session unused for this long ends (`console.idleTimeout`, seconds).
    pub idle_timeout: Duration,
    /// `LATCHKEY_ADMIN_PASSWORD`: the password of the `admin` user created on
    /// first start (generated and printed once when unset).
    pub admin_password: Option<Zeroizing<String>>,
}

impl fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_argon2_pool_stays_small_on_any_machine() {
        let bound = Argon2Bound::default();
        assert!((1..=DEFAULT_MAX_ARGON2_RUNS).contains(&bound.concurrency));
        assert!(
            u64::from(bound.concurrency) * 19 < 64,
            "MiB of Argon2id memory"
        );
        assert!(bound.queue >= 4);
    }
}
