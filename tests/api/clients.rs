//! Clients of both kinds over HTTP: creation with the first
//! secret, defaults, supplied and generated ids, paging with `Total-Count`,
//! HEAD, get, partial update, delete with its secrets, duplicate ids across
//! kinds, and that each kind is reachable only under its own routes.

use chrono::Utc;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, assert_generated, assert_near, assert_secret_object, call, count, days_from_now,
    exchange, expect_error, expect_invalid, in_one_year, secrets_path, time, total_count,
};

const HYBRID_FIELDS: [&str; 6] = [
    "RedirectUris",
    "PostLogoutRedirectUris",
    "ClientUri",
    "LogoUri",
    "AllowOfflineAccess",
    "AllowAccessTokensViaBrowser",
];

fn clients_path(tenant: &str, kind: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/{kind}")
}

fn ids_of(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["Id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn create_returns_the_first_secret_once_and_the_client(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let body = json!({"Name": "billing", "Tags": ["a", "b"], "RoleIds": ["tenant-member"],
            "AccessTokenLifetime": 600, "SecretDescription": "first"});
        let created = server.create_client(&tenant, kind, body).await;
        let value = created["Secret"]
            .as_str()
            .expect("the first secret's value");
        assert_generated(value);
        assert_eq!(created["Id"], json!(1));
        assert_eq!(created["Description"], json!("first"));
        assert_eq!(created["Expires"], true);
        assert_near(&created["Expiration"], in_one_year());
        let client = &created["Client"];
        let id = client["Id"].as_str().unwrap();
        uuid::Uuid::parse_str(id).expect("a generated GUID");
        assert_eq!(client["Name"], json!("billing"));
        assert_eq!(client["Enabled"], json!(true));
        assert_eq!(client["AccessTokenLifetime"], 600);
        assert_eq!(client["Tags"], json!(["a", "b"]));
        assert_eq!(client["RoleIds"], json!(["tenant-member"]));
        assert_near(&client["CreatedAt"], Utc::now());
        assert_near(&client["UpdatedAt"], Utc::now());
        for field in HYBRID_FIELDS {
            let present = client.get(field).is_some();
            assert_eq!(present, kind == "HybridClients", "{kind} {field}: {client}");
        }
        let path = format!("{}/{id}", clients_path(&tenant, kind));
        assert_eq!(&call(server.get(&path), 200).await, client);
        let list = call(server.get(&secrets_path(&tenant, kind, id)), 200).await;
        let [secret] = list.as_array().unwrap().as_slice() else {
            panic!("one secret: {list}")
        };
        assert_secret_object(secret, false);
        assert_eq!(secret["Id"], json!(1));
        assert_eq!(secret["Hint"], json!(value[..9]));
    }
}

async fn absent_fields_take_their_defaults(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let created = server
            .create_client(&tenant, kind, json!({"Name": "plain"}))
            .await;
        let client = &created["Client"];
        assert_eq!(client["Enabled"], json!(true));
        assert_eq!(client["AccessTokenLifetime"], json!(3600));
        assert_eq!(client["Tags"], json!([]));
        assert_eq!(client["RoleIds"], json!([]));
        for body in [json!({}), json!({"Name": ""}), json!({"Name": null})] {
            expect_invalid(
                server.post(&clients_path(&tenant, kind)).json(&body),
                "Name",
            )
            .await;
        }
        assert_eq!(count(server.head(&clients_path(&tenant, kind))).await, 1);
    }
}

async fn hybrid_settings_round_trip(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let body = json!({"Name": "web", "RedirectUris": ["https://app.example/cb"],
        "PostLogoutRedirectUris": ["https://app.example/bye"], "ClientUri": "https://app.example",
        "LogoUri": "https://app.example/logo.png", "AllowOfflineAccess": true,
        "AllowAccessTokensViaBrowser": true});
    let client = server.create_client(&tenant, KINDS[1], body.clone()).await["Client"].clone();
    for field in HYBRID_FIELDS {
        assert_eq!(client[field], body[field], "{field}");
    }
    let path = format!(
        "{}/{}",
        clients_path(&tenant, KINDS[1]),
        client["Id"].as_str().unwrap()
    );
    let updated = call(
        server
            .put(&path)
            .json(&json!({"AllowOfflineAccess": false})),
        200,
    )
    .await;
    let mut want = client.clone();
    want["AllowOfflineAccess"] = json!(false);
    want["UpdatedAt"] = updated["UpdatedAt"].clone();
    assert_eq!(updated, want);
    assert_eq!(call(server.get(&path), 200).await, updated);
}

async fn supplied_id_is_honoured_and_absent_id_is_a_guid(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let named = server
            .create_client(&tenant, kind, json!({"Id": "billing-api", "Name": "n"}))
            .await;
        assert_eq!(named["Client"]["Id"], "billing-api");
        let got = call(
            server.get(&format!("{}/billing-api", clients_path(&tenant, kind))),
            200,
        )
        .await;
        assert_eq!(got["Name"], "n");
        let first = server
            .create_client(&tenant, kind, json!({"Name": "n"}))
            .await;
        let second = server
            .create_client(&tenant, kind, json!({"Name": "n"}))
            .await;
        uuid::Uuid::parse_str(first["Client"]["Id"].as_str().unwrap()).expect("a GUID");
        assert_ne!(first["Client"]["Id"], second["Client"]["Id"]);
    }
}

async fn list_pages_with_skip_count_and_total_count(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let ids: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
        for id in &ids {
            server
                .create_client(&tenant, kind, json!({"Id": id, "Name": "n"}))
                .await;
        }
        let path = clients_path(&tenant, kind);
        let (status, headers, all) =
            exchange(server.get(&format!("{path}?skip=0&count=100"))).await;
        assert_eq!((status, total_count(&headers)), (200, 5));
        assert_eq!(ids_of(&all), ids);
        let mut paged = Vec::new();
        for skip in [0, 2, 4] {
            let (_, headers, page) =
                exchange(server.get(&format!("{path}?skip={skip}&count=2"))).await;
            assert_eq!(total_count(&headers), 5);
            assert_eq!(
                page.as_array().unwrap().len(),
                if skip == 4 { 1 } else { 2 }
            );
            paged.extend(ids_of(&page));
        }
        paged.sort();
        assert_eq!(paged, ids, "the pages cover every client once");
        let (status, headers, body) = exchange(server.head(&path)).await;
        assert_eq!((status, total_count(&headers), body), (200, 5, Value::Null));
        assert_eq!(
            call(server.head(&format!("{path}/c1")), 200).await,
            Value::Null
        );
        assert_eq!(
            call(server.head(&format!("{path}/nope")), 404).await,
            Value::Null
        );
        expect_error(server.get(&format!("{path}/nope")), 404, "NotFound").await;
    }
}

async fn update_changes_given_fields_keeps_absent_ones_and_null_empties_lists(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let body = json!({"Id": "c", "Name": "old", "Tags": ["t"], "RoleIds": ["tenant-auditor"],
            "AccessTokenLifetime": 900});
        let before = server.create_client(&tenant, kind, body).await["Client"].clone();
        let path = format!("{}/c", clients_path(&tenant, kind));
        let renamed = call(server.put(&path).json(&json!({"Name": "new"})), 200).await;
        let mut want = before.clone();
        want["Name"] = json!("new");
        want["UpdatedAt"] = renamed["UpdatedAt"].clone();
        assert_eq!(renamed, want);
        assert!(time(&renamed["UpdatedAt"]) >= time(&before["UpdatedAt"]));
        // null empties a list; on a field that cannot be empty it is refused by name.
        for field in [
            "Name",
            "AccessTokenLifetime",
            "Enabled",
            "AllowSelfRotation",
        ] {
            expect_invalid(server.put(&path).json(&json!({ field: null })), field).await;
        }
        let nulls = json!({"Tags": null, "RoleIds": null, "Enabled": false});
        let disabled = call(server.put(&path).json(&nulls), 200).await;
        want["Enabled"] = json!(false);
        want["Tags"] = json!([]);
        want["RoleIds"] = json!([]);
        want["UpdatedAt"] = disabled["UpdatedAt"].clone();
        assert_eq!(disabled, want);
        let retag = json!({"Tags": ["u"], "RoleIds": ["tenant-member"]});
        let retagged = call(server.put(&path).json(&retag), 200).await;
        assert_eq!(retagged["Tags"], json!(["u"]));
        assert_eq!(retagged["RoleIds"], json!(["tenant-member"]));
        let got = call(server.get(&path), 200).await;
        assert_eq!(got["Enabled"], json!(false), "changes stick");
        assert_eq!(got["Name"], json!("new"), "changes stick");
        assert_eq!(got["CreatedAt"], before["CreatedAt"]);
        let unknown = format!("{}/nope", clients_path(&tenant, kind));
        expect_error(
            server.put(&unknown).json(&json!({"Name": "x"})),
            404,
            "NotFound",
        )
        .await;
    }
}

async fn delete_removes_the_client_and_its_secrets(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        server
            .create_client(&tenant, kind, json!({"Id": "keep", "Name": "n"}))
            .await;
        server
            .create_client(&tenant, kind, json!({"Id": "gone", "Name": "n"}))
            .await;
        let path = format!("{}/gone", clients_path(&tenant, kind));
        let secrets = secrets_path(&tenant, kind, "gone");
        assert_eq!(call(server.delete(&path), 204).await, Value::Null);
        expect_error(server.get(&path), 404, "NotFound").await;
        expect_error(server.get(&secrets), 404, "NotFound").await;
        expect_error(server.get(&format!("{secrets}/1")), 404, "NotFound").await;
        expect_error(server.delete(&path), 404, "NotFound").await;
        assert_eq!(count(server.get(&clients_path(&tenant, kind))).await, 1);
        let again = server
            .create_client(&tenant, kind, json!({"Id": "gone", "Name": "n"}))
            .await;
        assert_eq!(
            again["Id"], 1,
            "a re-created client starts with a fresh secret"
        );
        assert_eq!(
            count(server.head(&secrets)).await,
            1,
            "the old secrets are gone"
        );
    }
}

async fn duplicate_id_is_409_within_and_across_kinds(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    server
        .create_client(&tenant, KINDS[0], json!({"Id": "dup", "Name": "first"}))
        .await;
    for kind in KINDS {
        let body = json!({"Id": "dup", "Name": "second"});
        expect_error(
            server.post(&clients_path(&tenant, kind)).json(&body),
            409,
            "Conflict",
        )
        .await;
    }
    let kept = call(
        server.get(&format!("{}/dup", clients_path(&tenant, KINDS[0]))),
        200,
    )
    .await;
    assert_eq!(kept["Name"], "first");
    assert_eq!(
        count(server.head(&clients_path(&tenant, KINDS[0]))).await,
        1
    );
    assert_eq!(
        count(server.head(&clients_path(&tenant, KINDS[1]))).await,
        0
    );
    let other = server.create_tenant().await;
    let body = json!({"Id": "dup", "Name": "elsewhere"});
    let created = server.create_client(&other, KINDS[1], body).await;
    assert_eq!(
        created["Client"]["Id"], "dup",
        "ids are unique per tenant only"
    );
}

async fn kinds_are_not_reachable_under_each_other(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    for (own, other) in [(KINDS[0], KINDS[1]), (KINDS[1], KINDS[0])] {
        let id = format!("only-{own}");
        server
            .create_client(&tenant, own, json!({"Id": id, "Name": "n"}))
            .await;
        let wrong = format!("{}/{id}", clients_path(&tenant, other));
        let secrets = secrets_path(&tenant, other, &id);
        let one = format!("{secrets}/1");
        let requests = [
            server.get(&wrong),
            server.put(&wrong).json(&json!({"Name": "hijacked"})),
            server.delete(&wrong),
            server.get(&secrets),
            server.post(&secrets).json(&json!({})),
            server.get(&one),
            server.put(&one).json(&json!({"Description": "x"})),
            server.post(&format!("{one}/Renew")).json(&json!({})),
            server.post(&format!("{one}/EndGrace")),
            server.delete(&one),
        ];
        for req in requests {
            expect_error(req, 404, "NotFound").await;
        }
        assert_eq!(call(server.head(&wrong), 404).await, Value::Null);
        assert_eq!(call(server.head(&secrets), 404).await, Value::Null);
        let listed = ids_of(&call(server.get(&clients_path(&tenant, other)), 200).await);
        assert!(!listed.contains(&id), "{listed:?}");
        let own_path = format!("{}/{id}", clients_path(&tenant, own));
        assert_eq!(
            call(server.get(&own_path), 200).await["Name"],
            "n",
            "untouched"
        );
        let own_secrets = secrets_path(&tenant, own, &id);
        assert_eq!(count(server.head(&own_secrets)).await, 1);
        let description =
            call(server.get(&format!("{own_secrets}/1")), 200).await["Description"].clone();
        assert_ne!(description, "x");
    }
}

async fn first_secret_follows_the_expiry_table(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let tenant = server.create_tenant().await;
        let (at, wire) = days_from_now(5);
        let never = json!({"Name": "n", "SecretExpires": false, "SecretExpirationDate": wire});
        let created = server.create_client(&tenant, kind, never).await;
        assert_eq!(
            (&created["Expires"], &created["Expiration"]),
            (&json!(false), &Value::Null)
        );
        let dated = json!({"Name": "n", "SecretExpirationDate": wire});
        let dated = server.create_client(&tenant, kind, dated).await;
        assert_eq!(
            (&dated["Expires"], time(&dated["Expiration"])),
            (&json!(true), at)
        );
        let (_, past) = days_from_now(-2);
        let body = json!({"Name": "n", "SecretExpirationDate": past});
        expect_invalid(
            server.post(&clients_path(&tenant, kind)).json(&body),
            "SecretExpirationDate",
        )
        .await;
        let left = count(server.head(&clients_path(&tenant, kind))).await;
        assert_eq!(left, 2, "a refused creation leaves no client behind");
    }
}

both_backends!(
    create_returns_the_first_secret_once_and_the_client,
    absent_fields_take_their_defaults,
    hybrid_settings_round_trip,
    supplied_id_is_honoured_and_absent_id_is_a_guid,
    list_pages_with_skip_count_and_total_count,
    update_changes_given_fields_keeps_absent_ones_and_null_empties_lists,
    delete_removes_the_client_and_its_secrets,
    duplicate_id_is_409_within_and_across_kinds,
    kinds_are_not_reachable_under_each_other,
    first_secret_follows_the_expiry_table,
);
