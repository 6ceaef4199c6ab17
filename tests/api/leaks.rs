//! Secret values: generated ones carry at least 256 bits and
//! never repeat, supplied ones may contain `:`, `+`, `%` and inner spaces, and
//! a value appears only in the response that creates or renews it: never in
//! the database, the logs (at debug level), a list, a get or an error
//! response. The bootstrap token is not logged either.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, add_secret, assert_generated, call, client_of, count, exchange, expect_invalid,
    secrets_path,
};

/// The ways a value could show up: whole, a middle chunk (a prefix or
/// encoding may be stripped or added), and as hex (PostgreSQL `bytea` dumps).
fn forms(value: &str) -> Vec<String> {
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    vec![value.to_owned(), value[10..26].to_owned(), hex]
}

fn assert_absent(haystack: &[u8], values: &[String], place: &str) {
    for value in values {
        for form in forms(value) {
            let found = haystack.windows(form.len()).any(|w| w == form.as_bytes());
            assert!(
                !found,
                "{place} contains {form:?} (from the value {value:?})"
            );
        }
    }
}

fn take(body: &Value) -> String {
    body["Secret"].as_str().expect("a Secret value").to_owned()
}

async fn no_secret_value_is_stored_logged_or_listed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let mut values = Vec::new();
    let mut paths = vec![
        "/api/v1/Tenants".to_owned(),
        format!("/api/v1/Tenants/{tenant}"),
    ];
    for (n, kind) in KINDS.into_iter().enumerate() {
        let created = server
            .create_client(
                &tenant,
                kind,
                json!({"Name": "leaky", "SecretDescription": "first"}),
            )
            .await;
        values.push(take(&created));
        let client = created["Client"]["Id"].as_str().unwrap().to_owned();
        let path = secrets_path(&tenant, kind, &client);
        values.push(take(
            &add_secret(&server, &path, json!({"Description": "generated"})).await,
        ));
        let supplied = format!("Supplied value {n}: with+plus%percent and spaces ~LEAK{n}");
        let added = add_secret(&server, &path, json!({"Value": supplied})).await;
        assert_eq!(take(&added), supplied);
        values.push(supplied);
        let renew = format!("{path}/2/Renew");
        let grace = json!({"GracePeriodSeconds": 3600});
        let renewed = call(server.post(&renew).json(&grace), 200).await;
        values.push(take(&renewed));
        let replacement = format!("Replacement value {n} set through PUT, never shown");
        let put = server
            .put(&format!("{path}/1"))
            .json(&json!({"Value": replacement}));
        let updated = call(put, 200).await;
        assert!(
            updated.get("Secret").is_none(),
            "PUT never returns a value: {updated}"
        );
        values.push(replacement);
        // A refused value must not be echoed in the error either.
        let refused = format!(" refused value {n} with a leading space, long enough");
        let error = call(server.post(&path).json(&json!({"Value": refused})), 400).await;
        let shown = error.to_string();
        assert_absent(
            shown.as_bytes(),
            std::slice::from_ref(&refused),
            "an error response",
        );
        values.push(refused);
        paths.extend([
            format!("/api/v1/Tenants/{tenant}/{kind}"),
            format!("/api/v1/Tenants/{tenant}/{kind}/{client}"),
            path.clone(),
            format!("{path}/1"),
            format!("{path}/2"),
            format!("{path}/3"),
        ]);
    }
    for path in &paths {
        let (status, headers, body) = exchange(server.get(path)).await;
        assert_eq!(status, 200, "{path}");
        let text = format!("{headers:?} {body}");
        assert!(
            !text.contains("\"Secret\""),
            "{path} shows a Secret field: {text}"
        );
        assert_absent(text.as_bytes(), &values, path);
        let (_, headers, _) = exchange(server.head(path)).await;
        assert_absent(
            format!("{headers:?}").as_bytes(),
            &values,
            &format!("HEAD {path}"),
        );
    }
    let stored = server.stored_bytes().await;
    let rows_seen = stored.windows(5).any(|w| w == b"leaky");
    assert!(rows_seen, "the dump holds the rows (it names the client)");
    assert_absent(&stored, &values, "the database");
    let logs = server.logs();
    assert!(
        logs.contains("DEBUG") || logs.contains("debug"),
        "the server logs at debug level: {logs}"
    );
    assert_absent(logs.as_bytes(), &values, "the logs");
    assert!(
        !logs.contains(&server.token),
        "the logs contain the bootstrap token"
    );
}

async fn deleting_leaves_no_value_behind(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let created = server
        .create_client(&tenant, KINDS[1], json!({"Id": "short-lived", "Name": "n"}))
        .await;
    let path = secrets_path(&tenant, KINDS[1], "short-lived");
    let supplied = "a supplied value that is deleted right away 0042".to_owned();
    add_secret(&server, &path, json!({"Value": supplied})).await;
    call(server.delete(&format!("{path}/2")), 204).await;
    let client = format!("/api/v1/Tenants/{tenant}/{}/short-lived", KINDS[1]);
    call(server.delete(&client), 204).await;
    let values = [take(&created), supplied];
    assert_absent(&server.stored_bytes().await, &values, "the database");
    assert_absent(server.logs().as_bytes(), &values, "the logs");
}

async fn supplied_values_with_reserved_characters_are_accepted(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        let values = [
            "a".repeat(32),
            "z".repeat(512),
            "colon:plus+percent%20 and inner spaces 1234".to_owned(),
            "~!@#$^&*()_={}[]|\\;'\"<>,.?/`-0987".to_owned(),
        ];
        for value in values {
            let created = add_secret(&server, &path, json!({"Value": value})).await;
            assert_eq!(
                created["Secret"],
                json!(value),
                "the supplied value is returned once"
            );
            assert_eq!(created["Hint"], format!("…{}", &value[value.len() - 4..]));
        }
    }
}

async fn supplied_values_outside_the_rules_are_400_naming_value(backend: Backend) {
    let server = TestServer::start(backend).await;
    let base = "a".repeat(31);
    let bad = [
        "a".repeat(31),
        "a".repeat(513),
        format!(" {base}"),
        format!("{base} "),
        format!("{base}é"),
        format!("{base}\t"),
        format!("lkcs_{base}"),
    ];
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        let one = format!("{path}/1");
        let before = call(server.get(&one), 200).await;
        for value in &bad {
            let body = json!({"Value": value});
            expect_invalid(server.post(&path).json(&body), "Value").await;
            expect_invalid(server.put(&one).json(&body), "Value").await;
        }
        assert_eq!(count(server.head(&path)).await, 1, "no secret was added");
        assert_eq!(
            call(server.get(&one), 200).await,
            before,
            "the value was not replaced"
        );
    }
}

async fn generated_values_are_distinct_and_carry_256_bits(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut seen = HashSet::new();
    for kind in KINDS {
        let (tenant, client, created) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        let mut values = vec![created["Secret"].clone()];
        for _ in 0..9 {
            values.push(add_secret(&server, &path, json!({})).await["Secret"].clone());
        }
        for _ in 0..15 {
            let renewed = call(
                server.post(&format!("{path}/1/Renew")).json(&json!({})),
                200,
            )
            .await;
            values.push(renewed["Secret"].clone());
        }
        for value in values {
            let value = value.as_str().expect("a value").to_owned();
            assert_generated(&value);
            assert!(
                seen.insert(value[5..48].to_owned()),
                "random part repeated in {value}"
            );
        }
    }
    assert_eq!(seen.len(), 50);
}

both_backends!(
    supplied_values_outside_the_rules_are_400_naming_value,
    supplied_values_with_reserved_characters_are_accepted,
    generated_values_are_distinct_and_carry_256_bits,
    no_secret_value_is_stored_logged_or_listed,
    deleting_leaves_no_value_behind
);
