//! Secrets of both client kinds over HTTP: list and HEAD with
//! `Total-Count`, add, get, update, Renew, EndGrace, delete with ids never
//! reused, and one row per line of the expiry table.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, add_secret, assert_generated, assert_near, assert_secret_object, call, client_of, count,
    days_from_now, exchange, expect_error, expect_invalid, get_secret, in_one_year, secrets_path,
    time, total_count, without_value,
};

fn never(v: &Value) -> (&Value, &Value) {
    (&v["Expires"], &v["Expiration"])
}

const NEVER: (&Value, &Value) = (&Value::Bool(false), &Value::Null);

async fn add_returns_the_value_once_with_its_hint(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        let created = add_secret(&server, &path, json!({"Description": "ci"})).await;
        let value = created["Secret"].as_str().unwrap();
        assert_generated(value);
        assert_eq!(created["Id"], json!(2));
        assert_eq!(created["Description"], json!("ci"));
        assert_eq!(created["Hint"], value[..9]);
        assert_eq!(created["Expires"], true);
        assert_near(&created["Expiration"], in_one_year());
        assert_near(&created["CreatedAt"], Utc::now());
        assert_eq!(created["Status"], "Active");
        assert_eq!(created["LastUsedAt"], Value::Null);
        assert_eq!(created["GraceUntil"], Value::Null);
        let two = format!("{path}/2");
        assert_eq!(get_secret(&server, &two).await, without_value(&created));
        assert_eq!(
            call(server.head(&two), 200).await,
            Value::Null,
            "HEAD has no body"
        );
        assert_eq!(
            call(server.head(&format!("{path}/3")), 404).await,
            Value::Null
        );
        expect_error(server.get(&format!("{path}/3")), 404, "NotFound").await;
    }
}

async fn list_and_head_report_total_count(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        for i in 0..3 {
            add_secret(&server, &path, json!({"Description": format!("s{i}")})).await;
        }
        let (status, headers, list) =
            exchange(server.get(&format!("{path}?query=&skip=0&count=100"))).await;
        assert_eq!((status, total_count(&headers)), (200, 4));
        let list = list.as_array().unwrap();
        list.iter().for_each(|s| assert_secret_object(s, false));
        let mut ids: Vec<i64> = list.iter().map(|s| s["Id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, [1, 2, 3, 4]);
        let (_, headers, page) = exchange(server.get(&format!("{path}?skip=1&count=2"))).await;
        assert_eq!(
            (total_count(&headers), page.as_array().unwrap().len()),
            (4, 2)
        );
        let (_, headers, page) = exchange(server.get(&format!("{path}?skip=4&count=2"))).await;
        assert_eq!((total_count(&headers), page), (4, json!([])));
        let (status, headers, body) = exchange(server.head(&path)).await;
        assert_eq!((status, total_count(&headers), body), (200, 4, Value::Null));
    }
}

async fn update_changes_only_the_given_fields(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let one = format!("{}/1", secrets_path(&tenant, kind, &client));
        let before = get_secret(&server, &one).await;
        assert_eq!(call(server.put(&one).json(&json!({})), 200).await, before);
        // null on a field that cannot be empty is refused by name, changing nothing.
        for field in ["Expires", "Value"] {
            expect_invalid(server.put(&one).json(&json!({ field: null })), field).await;
        }
        let contradiction = json!({"Expires": true, "Expiration": null});
        expect_invalid(server.put(&one).json(&contradiction), "Expiration").await;
        assert_eq!(get_secret(&server, &one).await, before);
        let renamed = call(
            server.put(&one).json(&json!({"Description": "renamed"})),
            200,
        )
        .await;
        let mut want = before.clone();
        want["Description"] = json!("renamed");
        assert_eq!(renamed, want);
        let (at, wire) = days_from_now(20);
        let moved = call(server.put(&one).json(&json!({"Expiration": wire})), 200).await;
        assert_eq!(
            (&moved["Expires"], time(&moved["Expiration"])),
            (&json!(true), at)
        );
        assert_eq!(moved["Description"], "renamed");
        let (_, past) = days_from_now(-1);
        expect_invalid(
            server.put(&one).json(&json!({"Expiration": past})),
            "Expiration",
        )
        .await;
        assert_eq!(
            get_secret(&server, &one).await,
            moved,
            "a refused update changes nothing"
        );
        let endless = call(server.put(&one).json(&json!({"Expires": false})), 200).await;
        assert_eq!(never(&endless), NEVER);
        assert_eq!(get_secret(&server, &one).await, endless);
        assert_eq!(endless["Hint"], before["Hint"]);
        // null empties: the description, and the expiration (never expires).
        call(server.put(&one).json(&json!({"Expiration": wire})), 200).await;
        let cleared = json!({"Description": null, "Expiration": null});
        let emptied = call(server.put(&one).json(&cleared), 200).await;
        assert_eq!(
            (&emptied["Description"], never(&emptied)),
            (&json!(""), NEVER)
        );
        assert_eq!(get_secret(&server, &one).await, emptied);
    }
}

async fn update_with_value_sets_a_supplied_value(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let one = format!("{}/1", secrets_path(&tenant, kind, &client));
        let before = get_secret(&server, &one).await;
        let value = json!({"Value": "my own value: with spaces+plus%percent WXYZ"});
        let updated = call(server.put(&one).json(&value), 200).await;
        assert_secret_object(&updated, false);
        let mut want = before.clone();
        want["Hint"] = json!("…WXYZ");
        assert_eq!(updated, want);
        assert_eq!(get_secret(&server, &one).await, want);
    }
}

async fn renew_keeps_id_and_issues_new_value(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, created) = client_of(&server, kind).await;
        let one = format!("{}/1", secrets_path(&tenant, kind, &client));
        let renew = format!("{one}/Renew");
        call(
            server
                .put(&one)
                .json(&json!({"Description": "kept", "Expires": false})),
            200,
        )
        .await;
        let renewed = call(server.post(&renew).json(&json!({})), 200).await;
        assert_secret_object(&renewed, true);
        let value = renewed["Secret"].as_str().unwrap();
        assert_generated(value);
        assert_ne!(value, created["Secret"].as_str().unwrap());
        assert_eq!(renewed["Id"], json!(1));
        assert_eq!(renewed["Description"], json!("kept"));
        assert_eq!(renewed["Hint"], value[..9]);
        assert_eq!(renewed["GraceUntil"], Value::Null);
        assert_eq!(
            never(&renewed),
            NEVER,
            "a secret that never expires keeps doing so when the Renew names no expiration"
        );
        assert_eq!(get_secret(&server, &one).await, without_value(&renewed));
        let asked = call(server.post(&renew).json(&json!({"Expires": true})), 200).await;
        assert_eq!(
            asked["Expires"], true,
            "Expires: true takes the policy's default"
        );
        assert_near(&asked["Expiration"], in_one_year());
        let again = call(server.post(&renew).json(&json!({})), 200).await;
        assert_near(&again["Expiration"], in_one_year());
        let endless = call(server.post(&renew).json(&json!({"Expires": false})), 200).await;
        assert_eq!(never(&endless), NEVER);
        let (at, wire) = days_from_now(3);
        let dated = call(server.post(&renew).json(&json!({"Expiration": wire})), 200).await;
        assert_eq!(time(&dated["Expiration"]), at);
        let unknown = server.post(&format!("{one}9/Renew")).json(&json!({}));
        expect_error(unknown, 404, "NotFound").await;
    }
}

async fn renew_with_grace_sets_grace_until_and_end_grace_clears_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let one = format!("{}/1", secrets_path(&tenant, kind, &client));
        let (renew, end) = (format!("{one}/Renew"), format!("{one}/EndGrace"));
        let hour = json!({"GracePeriodSeconds": 3600});
        let renewed = call(server.post(&renew).json(&hour), 200).await;
        assert_near(&renewed["GraceUntil"], Utc::now() + Duration::seconds(3600));
        assert_eq!(get_secret(&server, &one).await, without_value(&renewed));
        let ended = call(server.post(&end), 200).await;
        assert_secret_object(&ended, false);
        let mut want = without_value(&renewed);
        want["GraceUntil"] = Value::Null;
        assert_eq!(
            ended, want,
            "EndGrace keeps the current value and clears GraceUntil"
        );
        assert_eq!(get_secret(&server, &one).await, want);
        // A second Renew ends the earlier grace at once.
        call(
            server
                .post(&renew)
                .json(&json!({"GracePeriodSeconds": 600})),
            200,
        )
        .await;
        let again = call(server.post(&renew).json(&json!({})), 200).await;
        assert_eq!(again["GraceUntil"], Value::Null);
        let week = json!({"GracePeriodSeconds": 604_800});
        let renewed = call(server.post(&renew).json(&week), 200).await;
        assert_near(&renewed["GraceUntil"], Utc::now() + Duration::days(7));
    }
}

async fn renew_grace_period_above_seven_days_is_400(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let one = format!("{}/1", secrets_path(&tenant, kind, &client));
        let before = get_secret(&server, &one).await;
        for bad in [json!(604_801), json!(-1)] {
            let req = server
                .post(&format!("{one}/Renew"))
                .json(&json!({"GracePeriodSeconds": bad}));
            expect_invalid(req, "GracePeriodSeconds").await;
        }
        assert_eq!(
            get_secret(&server, &one).await,
            before,
            "a refused Renew changes nothing"
        );
    }
}

async fn delete_revokes_for_good_and_ids_are_never_reused(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        let three = format!("{path}/3");
        add_secret(&server, &path, json!({})).await;
        assert_eq!(add_secret(&server, &path, json!({})).await["Id"], 3);
        assert_eq!(call(server.delete(&three), 204).await, Value::Null);
        expect_error(server.get(&three), 404, "NotFound").await;
        assert_eq!(call(server.head(&three), 404).await, Value::Null);
        expect_error(server.delete(&three), 404, "NotFound").await;
        expect_error(server.put(&three).json(&json!({})), 404, "NotFound").await;
        let renew = server.post(&format!("{three}/Renew")).json(&json!({}));
        expect_error(renew, 404, "NotFound").await;
        expect_error(server.post(&format!("{three}/EndGrace")), 404, "NotFound").await;
        let (_, headers, list) = exchange(server.get(&path)).await;
        assert_eq!(total_count(&headers), 2);
        let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|s| &s["Id"]).collect();
        assert_eq!(ids.len(), 2);
        assert!(!ids.contains(&&json!(3)), "{ids:?}");
        let next = add_secret(&server, &path, json!({})).await;
        assert_eq!(next["Id"], 4, "the revoked Id 3 is not reused");
    }
}

async fn expiry_table_of_spec_section_3(backend: Backend) {
    enum Want {
        Never,
        Exactly(DateTime<Utc>),
        Policy,
        Refused,
    }
    let server = TestServer::start(backend).await;
    let (future, at) = days_from_now(10);
    let (_, past) = days_from_now(-1);
    let rows = [
        (
            "false + null",
            json!({"Expires": false, "Expiration": null}),
            Want::Never,
        ),
        (
            "false + set",
            json!({"Expires": false, "Expiration": at}),
            Want::Never,
        ),
        (
            "true + future",
            json!({"Expires": true, "Expiration": at}),
            Want::Exactly(future),
        ),
        (
            "null + future",
            json!({"Expires": null, "Expiration": at}),
            Want::Exactly(future),
        ),
        (
            "true + past",
            json!({"Expires": true, "Expiration": past}),
            Want::Refused,
        ),
        ("null + past", json!({"Expiration": past}), Want::Refused),
        (
            "null + null",
            json!({"Expires": null, "Expiration": null}),
            Want::Policy,
        ),
        ("absent + absent", json!({}), Want::Policy),
        ("true + null", json!({"Expires": true}), Want::Policy),
    ];
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        for (row, body, want) in &rows {
            let req = server.post(&path).json(body);
            if let Want::Refused = want {
                expect_invalid(req, "Expiration").await;
                continue;
            }
            let got = call(req, 201).await;
            match want {
                Want::Never => assert_eq!(never(&got), NEVER, "{row}"),
                Want::Exactly(t) => assert_eq!(time(&got["Expiration"]), *t, "{row}"),
                _ => assert_near(&got["Expiration"], in_one_year()),
            }
            if !matches!(want, Want::Never) {
                assert_eq!(got["Expires"], true, "{row}");
            }
        }
        assert_eq!(
            count(server.head(&path)).await,
            8,
            "refused rows added nothing"
        );
    }
}

both_backends!(
    add_returns_the_value_once_with_its_hint,
    list_and_head_report_total_count,
    update_changes_only_the_given_fields,
    update_with_value_sets_a_supplied_value,
    renew_keeps_id_and_issues_new_value,
    renew_with_grace_sets_grace_until_and_end_grace_clears_it,
    renew_grace_period_above_seven_days_is_400,
    delete_revokes_for_good_and_ids_are_never_reused,
    expiry_table_of_spec_section_3,
);
