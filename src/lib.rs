//! Latchkey: a self-hosted authority for OAuth 2.0 client secrets.
//!
//! Architecture (dependencies point down; `docs/architecture.md` has the whole design,
//! `scripts/check-layers.py` checks the layering):
//!
//! ```text
//! main.rs ─► server, app, config        composition root: settings, storage, services,
//!                    │                   the router, background workers, shutdown
//!   http/   oauth/   console/   cli/    front ends (never import each other)
//!                    │
//!   web/                                HTTP plumbing the front ends share
//!                    │
//!   service/                            use cases: caller checks, rules with the clock,
//!                    │                   writes with their journal; tokens, accounts
//!   notify/                             outbox delivery (webhooks, email), expiry scheduler
//!                    │
//!   storage/                            trait Storage; sqlite/, postgres/, conformance
//!                    │
//!   domain/, clock, metrics             rules without I/O; the source of time; instruments
//! ```
//!
//! - [`domain`]: ids, secret values (generate, checksum, hint), hashes, expiry
//!   policy and its table of rules, the verification decision, audit entries,
//!   events, webhook signatures and targets, account rules.
//! - [`clock`]: the source of the current time, injectable for tests.
//! - [`metrics`]: the process's counters, gauges and histograms and their Prometheus
//!   text (lock-free on the token path; database-backed gauges refreshed in the background).
//! - [`storage`]: one interface, two databases, the same conformance tests.
//! - [`notify`]: background delivery of the event outbox (signed webhooks,
//!   expiry emails over SMTP) and the expiry scheduler.
//! - [`service`]: what every front end calls; the only place rules meet storage.
//! - [`web`]: the state handlers reach, OperationId and client address, the one
//!   failure → status mapping, the body limit.
//! - [`http`]: the management API and its OpenAPI document.
//! - [`oauth`]: each tenant's issuer: discovery, JWKS, token, introspection.
//! - [`console`]: the web console at `/console` (server-rendered pages over the same services).
//! - [`cli`]: the operator commands of `latchkey`: a client of the management API, and
//!   the local database tasks (migrate, password reset, backup, restore).
//! - [`logging`]: log lines as text or flat JSON objects (`--log-format`).
//! - [`app`], [`server`], [`config`]: the composition root: the router, start-up and
//!   shutdown, flags + YAML + environment validated once into each part's settings.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod oauth;
pub mod server;
pub mod service;
pub mod storage;
pub mod web;
