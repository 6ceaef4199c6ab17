//! A token is bound to the exact credential that minted it (that
//! secret *value* of that client *incarnation*) and grants at most the roles its client
//! holds at the moment of use. Each test acts as an attacker holding a token would: it
//! keeps using the token after the change that must end (or narrow) it, on the management
//! API and at introspection.

use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, expect_error, secrets_path};
use crate::oauth::{Cred, access_token, cc_client, claims, client_in, introspect, start};

const CC: &str = "ClientCredentialClients";

/// `GET …/ClientCredentialClients` with `token`: the status (200 works, 401 dead, 403 weak).
async fn list_clients_with(server: &TestServer, tenant: &str, token: &str) -> u16 {
    let url = server.url(&format!("/api/v1/Tenants/{tenant}/{CC}"));
    let res = server
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// `POST …/Secrets` of `client` with `token` (an administrator's action): the status.
async fn add_secret_with(server: &TestServer, tenant: &str, client: &str, token: &str) -> u16 {
    let url = server.url(&secrets_path(tenant, CC, client));
    let res = server
        .http
        .post(url)
        .bearer_auth(token)
        .json(&json!({"Description": "by token"}))
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// Defect 1: delete a client, create one with the same Id (either kind, no roles): its
/// secret ids restart at 1, and the old administrator token must stay dead.
async fn a_recreated_client_never_revives_an_old_token(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let observer = cc_client(&server, &tenant, &[]).await;
    for kind in [CC, "HybridClients"] {
        let body = json!({"Id": "svc", "RoleIds": ["tenant-administrator"]});
        let admin = client_in(&server, &tenant, CC, body).await;
        let token = access_token(&server, &admin).await;
        assert_eq!(list_clients_with(&server, &tenant, &token).await, 200);

        let client = format!("/api/v1/Tenants/{tenant}/{CC}/svc");
        call(server.delete(&client), 204).await;
        let reborn = client_in(&server, &tenant, kind, json!({"Id": "svc"})).await;
        assert_eq!(
            reborn.secret_id, admin.secret_id,
            "the numeric id is reused"
        );

        assert_eq!(
            list_clients_with(&server, &tenant, &token).await,
            401,
            "re-created as {kind}: the old token stays dead"
        );
        let got = introspect(&server, &observer, &token).await;
        assert_eq!(got, json!({"active": false}), "re-created as {kind}");
        let path = format!("/api/v1/Tenants/{tenant}/{kind}/svc");
        call(server.delete(&path), 204).await;
    }
}

/// Defect 2: Renew (no grace) and a new `Value` end the tokens of the replaced value at
/// once; with a grace period they end with the grace (at EndGrace here).
async fn a_replaced_value_takes_its_tokens_with_it(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let observer = cc_client(&server, &tenant, &[]).await;
    let first = cc_client(&server, &tenant, &["tenant-member"]).await;
    let secret = format!(
        "{}/{}",
        secrets_path(&tenant, CC, &first.id),
        first.secret_id
    );
    let works = |token: String| {
        let (server, tenant) = (&server, &tenant);
        async move { list_clients_with(server, tenant, &token).await }
    };

    // Renew without grace: the old value's token dies at once.
    let old_token = access_token(&server, &first).await;
    let renewed = call(
        server.post(&format!("{secret}/Renew")).json(&json!({})),
        200,
    )
    .await;
    assert_eq!(works(old_token.clone()).await, 401, "renewed without grace");
    assert_eq!(
        introspect(&server, &observer, &old_token).await["active"],
        false
    );
    let second = with_secret(&first, &renewed);
    let second_token = access_token(&server, &second).await;
    assert_eq!(works(second_token.clone()).await, 200);

    // A new supplied value by PUT: the renewed value's token dies at once.
    let supplied = "a supplied value, long enough: 0123456789";
    call(server.put(&secret).json(&json!({"Value": supplied})), 200).await;
    assert_eq!(
        works(second_token.clone()).await,
        401,
        "value replaced by PUT"
    );
    let third = Cred {
        secret: supplied.to_owned(),
        ..first.clone()
    };
    let third_token = access_token(&server, &third).await;
    assert_eq!(works(third_token.clone()).await, 200);

    // Renew with grace: the replaced value's token lives as long as the grace.
    let body = json!({"GracePeriodSeconds": 600});
    let renewed = call(server.post(&format!("{secret}/Renew")).json(&body), 200).await;
    assert_eq!(works(third_token.clone()).await, 200, "during the grace");
    let fourth_token = access_token(&server, &with_secret(&first, &renewed)).await;
    call(server.post(&format!("{secret}/EndGrace")), 200).await;
    assert_eq!(works(third_token.clone()).await, 401, "after EndGrace");
    assert_eq!(
        introspect(&server, &observer, &third_token).await["active"],
        false
    );
    assert_eq!(works(fourth_token).await, 200, "the current value's token");
}

/// Defect 3: the roles a token grants are the client's roles at the moment of use.
async fn demoting_a_client_narrows_its_tokens_at_the_next_request(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let observer = cc_client(&server, &tenant, &[]).await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator", "tenant-member"]).await;
    let token = access_token(&server, &admin).await;
    let client = format!("/api/v1/Tenants/{tenant}/{CC}/{}", admin.id);
    assert_eq!(
        add_secret_with(&server, &tenant, &admin.id, &token).await,
        201
    );

    call(
        server
            .put(&client)
            .json(&json!({"RoleIds": ["tenant-member"]})),
        200,
    )
    .await;
    assert_eq!(
        add_secret_with(&server, &tenant, &admin.id, &token).await,
        403,
        "no longer an administrator"
    );
    assert_eq!(list_clients_with(&server, &tenant, &token).await, 200);
    let seen = introspect(&server, &observer, &token).await;
    assert_eq!(
        (&seen["active"], &seen["roles"], &seen["scope"]),
        (
            &json!(true),
            &json!(["tenant-member"]),
            &json!("tenant-member")
        ),
        "introspection reports the roles still in force"
    );
    assert_eq!(
        claims(&token)["roles"],
        json!(["tenant-administrator", "tenant-member"]),
        "the token itself is unchanged"
    );

    call(server.put(&client).json(&json!({"RoleIds": []})), 200).await;
    assert_eq!(list_clients_with(&server, &tenant, &token).await, 403);
    // Promoting again gives back only what the token was issued with.
    let body = json!({"RoleIds": ["tenant-member", "tenant-auditor"]});
    call(server.put(&client).json(&body), 200).await;
    let seen = introspect(&server, &observer, &token).await;
    assert_eq!(seen["roles"], json!(["tenant-member"]));

    call(server.put(&client).json(&json!({"Enabled": false})), 200).await;
    let url = server.url(&format!("/api/v1/Tenants/{tenant}/{CC}"));
    expect_error(
        server.http.get(url).bearer_auth(&token),
        401,
        "Unauthorized",
    )
    .await;
}

/// The credentials of `cred`'s client with the value a Renew returned.
fn with_secret(cred: &Cred, renewed: &Value) -> Cred {
    Cred {
        secret: renewed["Secret"].as_str().expect("a Secret").to_owned(),
        ..cred.clone()
    }
}

both_backends!(
    a_recreated_client_never_revives_an_old_token,
    a_replaced_value_takes_its_tokens_with_it,
    demoting_a_client_narrows_its_tokens_at_the_next_request,
);
