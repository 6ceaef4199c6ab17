//! Latchkey's API tests: the ONE integration test binary.
//!
//! Every test starts the compiled `latchkey` binary as a child process through
//! [`harness::TestServer`] (on `127.0.0.1:0`, with a random bootstrap token and its own
//! database), talks to it over HTTP and asserts exact statuses and bodies. Behaviour that
//! touches storage runs on both databases: an area file writes
//! `async fn behaviour(backend: Backend)` and lists it in `both_backends!(...)`, which
//! declares `behaviour::sqlite` and `behaviour::postgres`.
//!
//! - SQLite needs nothing: each server gets a file in a fresh temporary directory.
//! - PostgreSQL needs `LATCHKEY_TEST_POSTGRES_URL`, an admin URL such as
//!   `postgres://postgres@127.0.0.1:PORT/postgres` on which the tests may `CREATE DATABASE`
//!   (each server gets a new `lk_<uuid>` database). PostgreSQL tests never skip: without the
//!   variable they fail, naming it.
//!
//! Run everything with `scripts/test.sh`: it starts a throwaway PostgreSQL cluster, exports
//! the variable, and runs fmt, `cargo nextest run` and clippy. By hand, with a cluster of your
//! own: `LATCHKEY_TEST_POSTGRES_URL=postgres://… cargo nextest run --test api`.
//! Timeouts and parallelism are in `.config/nextest.toml`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

// Test servers outside Latchkey: a signed-webhook receiver and an SMTP server (aiosmtpd).
#[path = "../support/receiver.rs"]
mod receiver;
#[path = "../support/smtp.rs"]
mod smtp;

mod audit;
mod audit_flood;
mod clients;
mod config;
mod credential_cache;
mod db_outage;
mod disk_full;
mod errors;
mod expiration_bounds;
mod file_modes;
mod generated_client;
mod inventory;
mod key_rotation;
mod leak_reports;
mod leaks;
mod lifecycle;
mod limiter_races;
mod log_format;
mod log_volume;
mod metrics;
mod nodes;
mod notifications;
mod oauth;
mod oauth_introspect;
mod oauth_limits;
mod oauth_refusals;
mod oauth_requests;
mod oauth_tokens;
mod openapi;
mod openapi_schemas;
mod policies;
mod put_semantics;
mod readme;
mod receiver_selftest;
mod refused_use;
mod roles;
mod secret_lookup;
mod secret_races;
mod secrets;
mod self_rotation;
mod shared_throttle;
mod shutdown;
mod single_process;
mod startup;
mod strict_nodes;
mod summary;
mod supplied_cache;
mod tenants;
mod token_binding;
mod trusted_proxies;
mod webhook_limits;
mod webhooks;
