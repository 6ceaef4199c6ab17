//! The storage conformance suite: every behaviour below runs, unchanged, against
//! SQLite (a temporary file) and PostgreSQL (a fresh database per test on the
//! server named by `LATCHKEY_TEST_POSTGRES_URL`, an admin URL, made by
//! [`super::test_database`]). PostgreSQL tests never skip: without the variable
//! they fail and say why.
//!
//! One file per resource, like the dialect files (`sqlite/*.rs`, `postgres/*.rs`);
//! the records and lookups they share are in `fixtures.rs`.

use std::future::Future;

mod fixtures;
use fixtures::*;

mod announcements;
mod shared_failures;

mod audit;
mod clients;
mod credentials;
mod digests;
mod instants;
mod journal;
mod lists;
mod notices;
mod queue;
mod refusals;
mod refused_uses;
mod secrets;
mod signing_keys;
mod tenants;
mod webhook_limit;
mod webhooks;
use audit::*;
use clients::*;
use credentials::*;
use digests::*;
use instants::*;
use journal::*;
use lists::*;
use notices::*;
use queue::*;
use refusals::*;
use refused_uses::*;
use secrets::*;
use signing_keys::*;
use tenants::*;
use webhook_limit::*;
use webhooks::*;

/// Runs `body` against a fresh SQLite database.
pub(super) async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    body(super::open(&url).await.unwrap()).await;
}

/// Runs `body` against a fresh PostgreSQL database, dropped afterwards when the body passes.
pub(super) async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let database = super::test_database::create_postgres_database().await;
    body(super::open(&database.url).await.unwrap()).await;
    database.drop_database().await;
}

/// One module per behaviour, each with a `sqlite` and a `postgres` test.
macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {$(
        mod $behaviour {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::on_sqlite(super::$behaviour).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::on_postgres(super::$behaviour).await;
            }
        }
    )*};
}

conformance!(
    // signing_keys.rs
    signing_key_generations_are_stored_once,
    // tenants.rs
    tenants_insert_get_list,
    tenant_delete_cascades,
    tenant_names_are_unique_and_a_rename_keeps_them_so,
    policies_round_trip,
    concurrent_policy_changes_keep_each_others_parts,
    // clients.rs
    client_insert_with_first_secret,
    client_ids_unique_per_tenant,
    clients_limit,
    concurrent_client_inserts_respect_limit,
    list_clients_filters_by_kind_and_pages,
    update_client_writes_settings,
    delete_client_removes_secrets,
    // secrets.rs
    secret_ids_increase_and_are_never_reused,
    secrets_limit_counts_non_revoked,
    concurrent_secret_inserts_respect_limit,
    update_secret_writes_fields_of_live_secrets,
    update_secret_applies_only_to_the_revision_it_read,
    revoked_secrets_are_hidden,
    concurrent_deletes_and_revokes_do_not_fail,
    // digests.rs
    secrets_are_found_by_digest,
    // credentials.rs
    load_credentials_returns_candidates,
    // lists.rs
    secret_filters_and_inventory,
    // instants.rs: instants compare in time order up to 9999-12-31T23:59:59Z
    stored_instants_compare_in_time_order,
    // journal.rs
    journal_is_atomic_with_its_write,
    events_fan_out_to_subscriptions,
    // audit.rs
    audit_trail_filters_pages_and_outlives_deletions,
    // refusals.rs: bounded refusal records
    identical_refusals_fold_exactly_under_concurrency,
    refusals_past_the_cap_are_counted_in_one_overflow_entry,
    refusals_of_unknown_tenants_are_not_written,
    ordinary_entries_never_fold,
    // refused_uses.rs: coalesced usage writes
    refused_uses_add_up_and_raise_one_event_per_window,
    concurrent_refusal_flushes_add_up_and_raise_one_event,
    value_in_grace_last_use_follows_its_credential,
    // queue.rs
    claims_lease_retry_and_finish,
    renewed_leases_keep_a_claim,
    concurrent_claims_never_share_a_delivery,
    resend_requeues_a_delivery,
    pending_deliveries_count_and_oldest,
    // webhooks.rs, webhook_limit.rs
    webhooks_round_trip_and_cascade,
    recipients_are_replaced_and_deduplicated,
    webhooks_limit_counts_live_subscriptions,
    concurrent_webhook_inserts_respect_limit,
    // notices.rs
    expiry_notices_are_raised_once,
    concurrent_notices_raise_one_event,
);
