//! Latchkey: a self-hosted authority for OAuth 2.0 client secrets.
//!
//! Architecture (dependencies point down):
//!
//! ```text
//! main.rs ─ CLI ─► server (start-up, shutdown)
//!                    │
//!   http/ (management API: extract, delegate, map errors; OpenAPI)
//!                    │
//!   service/ (use cases: tenants, clients, secrets, verify; caller checks, clock)
//!          │                      │
//!   domain/ (rules, no I/O)    storage/ (trait Storage; sqlite, postgres)
//! ```
//!
//! - [`domain`]: ids, secret values (generate, checksum, hint), hashes, expiry
//!   policy and the SPEC §3 table, the verification decision.
//! - [`service`]: what every front end calls; the only place rules meet storage.
//! - [`storage`]: one interface, two databases, the same conformance tests.
//! - [`http`]: the management API of SPEC §4 and its OpenAPI document.
//! - [`console`]: the web console at `/console` (server-rendered pages over the same services).
//! - [`oauth`]: each tenant's issuer: discovery, JWKS, token, introspection (SPEC §6).
//! - [`notify`]: background delivery of the event outbox (signed webhooks,
//!   expiry emails over SMTP) and the expiry scheduler.
//! - [`config`]: flags + YAML + environment, validated once.

pub mod app;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod http;
pub mod notify;
pub mod oauth;
pub mod server;
pub mod service;
pub mod storage;
pub mod web;
