//! Explicit expirations are bounded: an `Expiration` past
//! 9999-12-31T23:59:59Z is a 400 naming the field on every route that takes one
//! (add, update, Renew, client creation), and the latest valid one is listed as
//! active, never as expired, on both databases.

use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{KINDS, call, exchange, expect_invalid, secrets_path};
use crate::oauth::{access_token, cc_client, start};

const CC: &str = KINDS[0];
/// Year 262142: accepted by the JSON parser, and on SQLite it sorted before every normal date.
const TOO_FAR: &str = "+262142-01-01T00:00:00Z";
const LATEST: &str = "9999-12-31T23:59:59Z";

async fn expirations_past_year_9999_are_refused_on_every_route(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let secrets = secrets_path(&tenant, CC, &cred.id);
    let one = format!("{secrets}/{}", cred.secret_id);
    let far = json!({ "Expiration": TOO_FAR });

    expect_invalid(server.post(&secrets).json(&far), "Expiration").await;
    expect_invalid(server.put(&one).json(&far), "Expiration").await;
    expect_invalid(
        server.post(&format!("{one}/Renew")).json(&far),
        "Expiration",
    )
    .await;
    let client = json!({ "Name": "far", "SecretExpirationDate": TOO_FAR });
    let clients = format!("/api/v1/Tenants/{tenant}/{CC}");
    expect_invalid(server.post(&clients).json(&client), "SecretExpirationDate").await;
    // Nothing was stored: the client keeps its one secret, with its old expiration.
    let list = call(server.get(&secrets), 200).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_ne!(list[0]["Expiration"], json!(TOO_FAR), "{list}");
}

async fn the_latest_expiration_is_listed_active_not_expired(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let secrets = secrets_path(&tenant, CC, &cred.id);
    let one = format!("{secrets}/{}", cred.secret_id);
    let body = json!({ "Expiration": LATEST });
    let updated = call(server.put(&one).json(&body), 200).await;
    assert_eq!(updated["Status"], "Active", "{updated}");
    let added = call(server.post(&secrets).json(&body), 201).await;

    let ids = |path: String| {
        let server = &server;
        async move {
            let (status, _, body) = exchange(server.get(&path)).await;
            assert_eq!(status, 200, "{path}: {body}");
            let mut ids: Vec<i64> = body
                .as_array()
                .expect("a JSON array")
                .iter()
                .map(|s| s["Id"].as_i64().expect("an Id"))
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    let both = vec![cred.secret_id, added["Id"].as_i64().expect("an Id")];
    assert_eq!(ids(format!("{secrets}?status=active")).await, both);
    assert_eq!(
        ids(format!("{secrets}?status=expired")).await,
        Vec::<i64>::new()
    );
    let inventory = format!("/api/v1/Tenants/{tenant}/Secrets");
    assert_eq!(ids(format!("{inventory}?status=active")).await, both);
    assert_eq!(
        ids(format!("{inventory}?status=expired")).await,
        Vec::<i64>::new()
    );
    // And the secret still works at the token endpoint.
    access_token(&server, &cred).await;
}

both_backends!(
    expirations_past_year_9999_are_refused_on_every_route,
    the_latest_expiration_is_listed_active_not_expired,
);
