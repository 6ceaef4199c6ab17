//! The process's metrics and their Prometheus text exposition (`GET /metrics`).
//!
//! One process-wide [`Registry`] ([`METRICS`]) of fixed instruments, like a
//! recorder: the token path, the hasher, the delivery worker and the request
//! layer write to it without being handed anything. What it must keep:
//!
//! - **Cheap on the token path**: a counter is one relaxed atomic add, a histogram
//!   three; no lock, no allocation. Label sets are fixed enums ([`TokenOutcome`],
//!   [`DeliveryOutcome`]) indexed into arrays, never built per request.
//! - **Bounded labels**: outcomes and refusal reasons are enums, management
//!   requests are labelled by route *template* (not the path sent), method and
//!   status; tenant ids appear only in the refreshed secret gauges, at most
//!   `metrics.maxTenants` of them. Client ids and secret values never appear.
//! - **Nothing unbounded per scrape**: the gauges that need the database (secrets
//!   by state per tenant, the delivery queue, the signing key's age) are a
//!   [`Refreshed`] snapshot written by a background task every
//!   `metrics.refreshInterval`; a scrape only formats what is in memory.
//!
//! With `metrics.enabled: false` ([`Registry::set_enabled`]) the token path records nothing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

mod instruments;
mod labels;
mod text;

pub use instruments::{Counter, Gauge, Histogram};
use labels::TOKEN_OUTCOMES;
pub use labels::{DeliveryOutcome, Refreshed, RefusalReason, SecretCounts, TokenOutcome};
pub use text::Text;

/// The process's instruments.
pub static METRICS: Registry = Registry::new();

/// Latency buckets of the token endpoint (seconds).
const TOKEN_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Wait for an Argon2id run place (seconds).
const WAIT_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Management requests by route template, method and status.
type RouteCounts = BTreeMap<(String, &'static str, u16), u64>;

/// Every instrument of the process.
pub struct Registry {
    enabled: AtomicBool,
    token_requests: [Counter; TOKEN_OUTCOMES],
    token_duration: Histogram<14>,
    management: Mutex<RouteCounts>,
    argon2_queued: Gauge,
    argon2_wait: Histogram<10>,
    argon2_runs: Counter,
    delivery_attempts: [Counter; 3],
    refreshed: Mutex<Option<Arc<Refreshed>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub const fn new() -> Self {
        Self {
            enabled: AtomicBool::new(true),
            token_requests: [const { Counter::new() }; TOKEN_OUTCOMES],
            token_duration: Histogram::new(TOKEN_BUCKETS),
            management: Mutex::new(BTreeMap::new()),
            argon2_queued: Gauge::new(),
            argon2_wait: Histogram::new(WAIT_BUCKETS),
            argon2_runs: Counter::new(),
            delivery_attempts: [const { Counter::new() }; 3],
            refreshed: Mutex::new(None),
        }
    }

    /// Turns recording of requests on or off (`metrics.enabled`).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// True unless `metrics.enabled: false`.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// One token request: its outcome and how long it took.
    pub fn token_request(&self, outcome: TokenOutcome, took: Duration) {
        if !self.enabled() {
            return;
        }
        if let Some(counter) = self.token_requests.get(outcome.index()) {
            counter.inc();
        }
        self.token_duration.observe(took);
    }

    /// One management API request, by route template (`None`: no route matched).
    pub fn management_request(&self, route: Option<&str>, method: &str, status: u16) {
        if !self.enabled() {
            return;
        }
        let method = known_method(method);
        let route = route.unwrap_or("unmatched").to_owned();
        let mut counts = self
            .management
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *counts.entry((route, method, status)).or_default() += 1;
    }

    /// A check entered the Argon2id queue; the guard leaves it (also when cancelled).
    pub fn argon2_enqueued(&self) -> Argon2Wait<'_> {
        self.argon2_queued.add(1);
        Argon2Wait {
            registry: self,
            started: std::time::Instant::now(),
        }
    }

    pub fn argon2_run(&self) {
        self.argon2_runs.inc();
    }

    pub fn delivery_attempt(&self, outcome: DeliveryOutcome) {
        let i = DeliveryOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        if let Some(counter) = self.delivery_attempts.get(i) {
            counter.inc();
        }
    }

    /// Replaces the refreshed gauges.
    pub fn set_refreshed(&self, refreshed: Refreshed) {
        *self
            .refreshed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(refreshed));
    }

    fn refreshed(&self) -> Option<Arc<Refreshed>> {
        self.refreshed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The Prometheus text exposition (format 0.0.4) at `now` (Unix seconds).
    pub fn render(&self, now: i64) -> String {
        let mut t = Text::default();
        t.family(
            "latchkey_token_requests_total",
            "counter",
            "Token requests by outcome (and refusal reason).",
        );
        for outcome in TokenOutcome::all() {
            let value = self
                .token_requests
                .get(outcome.index())
                .map_or(0, Counter::get);
            match outcome.labels() {
                (o, None) => t.sample("", &[("outcome", o)], value),
                (o, Some(r)) => t.sample("", &[("outcome", o), ("reason", r)], value),
            }
        }
        t.histogram(
            "latchkey_token_request_duration_seconds",
            "Time to answer a token request.",
            self.token_duration.snapshot(),
        );
        t.family(
            "latchkey_management_requests_total",
            "counter",
            "Management API requests by route template, method and status.",
        );
        let routes = self
            .management
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for ((route, method, status), n) in &routes {
            let status = status.to_string();
            t.sample(
                "",
                &[("route", route), ("method", method), ("status", &status)],
                n,
            );
        }
        t.family(
            "latchkey_argon2_queue_depth",
            "gauge",
            "Argon2id checks waiting for a run place.",
        );
        t.sample("", &[], self.argon2_queued.get());
        t.histogram(
            "latchkey_argon2_wait_seconds",
            "Time an Argon2id check waited for a run place.",
            self.argon2_wait.snapshot(),
        );
        t.family(
            "latchkey_argon2_runs_total",
            "counter",
            "Argon2id runs made.",
        );
        t.sample("", &[], self.argon2_runs.get());
        t.family(
            "latchkey_delivery_attempts_total",
            "counter",
            "Notification delivery attempts (webhook and email) by outcome.",
        );
        for (outcome, counter) in DeliveryOutcome::ALL.iter().zip(&self.delivery_attempts) {
            t.sample("", &[("outcome", outcome.as_str())], counter.get());
        }
        if let Some(r) = self.refreshed() {
            render_refreshed(&mut t, &r, now);
        }
        t.finish()
    }
}

/// The gauges of the last refresh.
fn render_refreshed(t: &mut Text, r: &Refreshed, now: i64) {
    t.family(
        "latchkey_secrets",
        "gauge",
        "Live secrets per tenant by status (a secret counts in every status that describes it); tenant=\"_other\" sums the tenants beyond metrics.maxTenants.",
    );
    let other = r.other.as_ref().map(|(_, counts)| ("_other", counts));
    let tenants = r
        .tenants
        .iter()
        .map(|(id, c)| (id.as_str(), c))
        .chain(other);
    for (tenant, counts) in tenants {
        for (status, n) in counts.by_status() {
            t.sample("", &[("tenant", tenant), ("status", status)], n);
        }
    }
    t.family(
        "latchkey_secrets_tenants_aggregated",
        "gauge",
        "Tenants beyond metrics.maxTenants, summed in tenant=\"_other\".",
    );
    t.sample("", &[], r.other.as_ref().map_or(0, |(n, _)| *n));
    t.family(
        "latchkey_delivery_queue_depth",
        "gauge",
        "Notification deliveries pending (due or waiting to retry).",
    );
    t.sample("", &[], r.deliveries_pending);
    t.family(
        "latchkey_delivery_oldest_pending_age_seconds",
        "gauge",
        "Age of the oldest pending delivery (0 when none).",
    );
    t.sample(
        "",
        &[],
        r.oldest_pending_at.map_or(0, |at| (now - at).max(0)),
    );
    if let Some(created) = r.signing_key_created_at {
        t.family(
            "latchkey_signing_key_age_seconds",
            "gauge",
            "Age of the current token-signing key.",
        );
        t.sample("", &[], (now - created).max(0));
    }
    t.family(
        "latchkey_metrics_refreshed_timestamp_seconds",
        "gauge",
        "When the gauges read from the database were last refreshed.",
    );
    t.sample("", &[], r.at);
}

/// The method label: one of the methods the API routes, else `other`.
fn known_method(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// A check waiting for an Argon2id run place: leaves the queue when dropped.
pub struct Argon2Wait<'a> {
    registry: &'a Registry,
    started: std::time::Instant,
}

impl Argon2Wait<'_> {
    /// The check got its run place: records how long it waited.
    pub fn admitted(self) {
        self.registry.argon2_wait.observe(self.started.elapsed());
    }
}

impl Drop for Argon2Wait<'_> {
    fn drop(&mut self) {
        self.registry.argon2_queued.add(-1);
    }
}

#[cfg(test)]
mod tests;
