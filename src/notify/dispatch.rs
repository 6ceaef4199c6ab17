//! The delivery worker: claims due deliveries from the outbox (leased, so each
//! attempt is made by one node), sends them, and records the outcome: delivered,
//! retry at the next step of the schedule, or failed once the schedule is spent.
//!
//! Webhooks are POSTed as JSON signed the Standard Webhooks way (`webhook-id` is
//! the event id, stable across retries and resends, so receivers can drop
//! duplicates). Redirects are not followed, and proxies in the environment
//! (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) are not used: through a proxy the
//! target host would be resolved and reached by the proxy, past the target
//! policy's check of every resolved address. A claim is renewed while its
//! attempt is under way, so a slow receiver is never sent the same delivery by
//! another node; a delivery interrupted by a crash is attempted again once its
//! lease runs out: delivery is at least once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};

use super::settings::NotificationSettings;
use super::targets::{self, PolicyResolver};
use crate::clock::Clock;
use crate::domain::jws::MasterKey;
use crate::domain::webhook_signature::SigningSecret;
use crate::metrics::{DeliveryOutcome, METRICS};
use crate::storage::{
    AttemptOutcome, AttemptRecord, Channel, ClaimedDelivery, NextStep, Storage, StorageError,
};

/// How often the queue is polled when it was found empty.
const POLL: Duration = Duration::from_secs(1);
/// Deliveries claimed per round.
const BATCH: u32 = 16;

/// What sends one delivery. Email goes through [`super::EmailSender`].
pub struct Dispatcher {
    store: Arc<dyn Storage>,
    master: Arc<MasterKey>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    settings: NotificationSettings,
    email: Option<Arc<dyn super::EmailSender>>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Storage>,
        master: Arc<MasterKey>,
        clock: Arc<dyn Clock>,
        settings: NotificationSettings,
        email: Option<Arc<dyn super::EmailSender>>,
    ) -> Result<Self, reqwest::Error> {
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("Latchkey-Webhooks/", env!("CARGO_PKG_VERSION"))),
        );
        let http = reqwest::Client::builder()
            .timeout(settings.webhook_timeout)
            .connect_timeout(settings.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Never an ambient proxy: the policy resolver must see the target host.
            .no_proxy()
            .default_headers(headers)
            .dns_resolver(Arc::new(PolicyResolver {
                policy: settings.webhook_targets,
            }))
            .build()?;
        Ok(Self {
            store,
            master,
            clock,
            http,
            settings,
            email,
        })
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        loop {
            match self.round().await {
                Ok(0) => tokio::time::sleep(POLL).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed; retrying: {e}");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Claims and attempts one batch; returns how many were attempted.
    pub async fn round(&self) -> Result<usize, StorageError> {
        let beat = self.attempt_limit();
        let lease = chrono::Duration::from_std(beat * 3).unwrap_or(chrono::Duration::seconds(60));
        let now = self.clock.now();
        let claimed = self.store.claim_deliveries(now, now + lease, BATCH).await?;
        let attempts = claimed.len();
        if attempts == 0 {
            return Ok(0);
        }
        let ids: Vec<i64> = claimed.iter().map(|c| c.delivery.id).collect();
        let sends = claimed.into_iter().map(|c| async move {
            let outcome = self.attempt(&c).await;
            if let Err(e) = self.store.finish_attempt(c.delivery.id, &outcome).await {
                tracing::error!(delivery = c.delivery.id, error = %e, "could not record a delivery attempt: {e}");
            }
        });
        let store = &self.store;
        let clock = &self.clock;
        let ids = &ids;
        let renew = || async move {
            let until = clock.now() + lease;
            if let Err(e) = store.renew_leases(ids, until).await {
                tracing::warn!(error = %e, "could not renew the claim on deliveries under way: {e}");
            }
        };
        // Renew the claims while attempts are under way (an email takes several steps
        // of up to `timeoutSeconds` each): no other node may attempt them meanwhile,
        // or a slow receiver would get the same event twice.
        while_renewing(futures_util::future::join_all(sends), beat, renew).await;
        Ok(attempts)
    }

    /// How long one step of an attempt may take, on either channel: a claim lasts
    /// three times this and is renewed this often while the attempt is under way.
    fn attempt_limit(&self) -> Duration {
        let email = self
            .email
            .as_ref()
            .map_or(Duration::ZERO, |e| e.time_limit());
        self.settings.webhook_timeout.max(email)
    }

    async fn attempt(&self, c: &ClaimedDelivery) -> AttemptOutcome {
        let started = Instant::now();
        let at = self.clock.now();
        let result = match c.delivery.channel {
            Channel::Webhook => self.post(c, at).await,
            Channel::Email => self.mail(c).await,
        };
        let duration_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let attempt = c.delivery.attempts;
        let (status, error, next) = match result {
            Ok(status) => (status, None, NextStep::Delivered),
            Err(failure) => {
                let since_resend = attempt.saturating_sub(c.delivery.attempts_before_resend);
                let next = self.after_failure(since_resend, at);
                tracing::info!(
                    delivery = c.delivery.id, attempt, channel = c.delivery.channel.as_str(),
                    error = %failure.reason, "delivery attempt failed"
                );
                (failure.status, Some(failure.reason), next)
            }
        };
        METRICS.delivery_attempt(match next {
            NextStep::Delivered => DeliveryOutcome::Delivered,
            NextStep::RetryAt(_) => DeliveryOutcome::Retry,
            NextStep::GiveUp => DeliveryOutcome::GaveUp,
        });
        AttemptOutcome {
            record: AttemptRecord {
                attempt,
                at,
                status,
                error,
                duration_ms,
            },
            next,
        }
    }

    /// Retry after the schedule's wait for this attempt (counted since the last
    /// re-send), or give up when spent.
    fn after_failure(&self, attempt: u32, at: DateTime<Utc>) -> NextStep {
        let index = usize::try_from(attempt)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        match self.settings.retry_schedule.get(index) {
            Some(wait) => NextStep::RetryAt(
                at + chrono::Duration::from_std(*wait).unwrap_or(chrono::Duration::hours(1)),
            ),
            None => NextStep::GiveUp,
        }
    }

    async fn post(&self, c: &ClaimedDelivery, at: DateTime<Utc>) -> Result<Option<u16>, Failure> {
        let Some((url, sealed)) = &c.webhook else {
            return Err(Failure::new("the subscription no longer exists"));
        };
        targets::check_literal(url, self.settings.webhook_targets)
            .map_err(|refused| Failure::new(refused.to_string()))?;
        let webhook_id = c.delivery.webhook_id.unwrap_or_default();
        let key = self
            .master
            .open(sealed, webhook_id.as_bytes())
            .map_err(|_| {
                Failure::new("the signing secret cannot be unsealed with this master key")
            })?;
        let secret = SigningSecret::from_bytes(key.to_vec());
        let id = c.delivery.event_id.to_string();
        let timestamp = at.timestamp();
        let signature = secret.sign(&id, timestamp, c.payload.as_bytes());
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(c.payload.clone())
            .send()
            .await
            .map_err(|e| Failure::new(describe(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(Some(status.as_u16()))
        } else {
            Err(Failure {
                status: Some(status.as_u16()),
                reason: format!("the receiver answered {status}"),
            })
        }
    }

    async fn mail(&self, c: &ClaimedDelivery) -> Result<Option<u16>, Failure> {
        let Some(sender) = &self.email else {
            return Err(Failure::new(
                "email is not configured (notifications.email.host)",
            ));
        };
        let recipients = self
            .store
            .recipients(&c.tenant)
            .await
            .map_err(|e| Failure::new(format!("cannot read the recipients: {e}")))?;
        if recipients.is_empty() {
            return Ok(None);
        }
        let tenant_name = self
            .store
            .get_tenant(&c.tenant)
            .await
            .ok()
            .flatten()
            .map(|t| t.name)
            .unwrap_or_default();
        sender
            .send(&recipients, &tenant_name, &c.payload)
            .await
            .map(|()| None)
            .map_err(Failure::new)
    }
}

/// Runs `work` to its end while calling `renew` every `beat` (first after one beat).
///
/// Both are polled together, never one after the other: a renewal that waits for a
/// row an attempt has locked in its open transaction (PostgreSQL row lock, SQLite
/// write lock) must not stop that attempt from committing, or both wait forever.
async fn while_renewing<T, R>(
    work: impl Future<Output = T>,
    beat: Duration,
    renew: impl Fn() -> R,
) -> T
where
    R: Future<Output = ()>,
{
    let renewing = async {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            renew().await;
        }
    };
    tokio::pin!(work, renewing);
    tokio::select! {
        done = &mut work => done,
        never = &mut renewing => never,
    }
}

struct Failure {
    status: Option<u16>,
    reason: String,
}

impl Failure {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            status: None,
            reason: reason.into(),
        }
    }
}

/// A transport error in a few words (never the URL's credentials: none are allowed).
fn describe(e: &reqwest::Error) -> String {
    if targets::is_refused(e) {
        targets::RefusedTarget.to_string()
    } else if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_redirect() {
        "redirects are not followed".into()
    } else {
        format!("request failed: {e}")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use tokio::sync::Mutex;

    use super::while_renewing;

    /// The deadlock this guards against: an attempt holds a lock (its open
    /// transaction) across a renewal tick, and the renewal needs the same lock. If the
    /// renewal ran while the attempt was not polled, neither would ever finish.
    #[tokio::test(start_paused = true)]
    async fn a_renewal_waiting_on_the_attempts_lock_does_not_stall_it() {
        let row = Arc::new(Mutex::new(()));
        let beat = Duration::from_secs(2);
        let attempt = {
            let row = row.clone();
            async move {
                let _held = row.lock().await;
                tokio::time::sleep(beat * 3).await;
                "committed"
            }
        };
        let renew = || {
            let row = row.clone();
            async move {
                let _waiting = row.lock().await;
            }
        };
        let outcome = tokio::time::timeout(beat * 10, while_renewing(attempt, beat, renew)).await;
        assert_eq!(outcome, Ok("committed"), "the attempt finished");
    }

    #[tokio::test(start_paused = true)]
    async fn claims_are_renewed_every_beat_until_the_work_ends() {
        let renewals = Arc::new(AtomicU32::new(0));
        let beat = Duration::from_secs(2);
        let renew = || {
            let renewals = renewals.clone();
            async move {
                renewals.fetch_add(1, Ordering::SeqCst);
            }
        };
        let work = tokio::time::sleep(beat * 3 + beat / 2);
        while_renewing(work, beat, renew).await;
        assert_eq!(
            renewals.load(Ordering::SeqCst),
            3,
            "renewed at 2 s, 4 s and 6 s"
        );
        tokio::time::sleep(beat * 3).await;
        assert_eq!(
            renewals.load(Ordering::SeqCst),
            3,
            "no renewal after the work ended"
        );
    }
}
