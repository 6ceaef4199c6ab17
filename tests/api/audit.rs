//! The audit trail: `GET/HEAD /api/v1/Tenants/{t}/AuditEvents`.
//! A whole secret lifecycle is found step by step (actor, client, secret id,
//! outcome, source address, the request's OperationId) with no secret value
//! anywhere in it; filters and paging; refused attempts; who may read it; entries
//! outlive their client; and no route changes or deletes an entry.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{KINDS, call, exchange, expect_error, expect_invalid, time, total_count};
use crate::oauth::{access_token, cc_client};
use crate::policies::{as_caller, client_policy, tenant_policy, token_with};

/// The fields of an audit entry, exactly.
const FIELDS: [&str; 14] = [
    "Action",
    "Actor",
    "ActorType",
    "ClientId",
    "ClientType",
    "Count",
    "OperationId",
    "Outcome",
    "Reason",
    "SecretId",
    "Sequence",
    "SourceAddress",
    "TenantId",
    "Time",
];

pub(crate) fn audit_path(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/AuditEvents")
}

/// The `OperationId` response header.
fn operation_id(headers: &HeaderMap) -> String {
    let value = headers.get("OperationId").expect("an OperationId header");
    value.to_str().expect("ASCII").to_owned()
}

/// Sends `req`, asserts `status`; returns the body and the OperationId header.
async fn send(req: reqwest::RequestBuilder, status: u16) -> (Value, String) {
    let (got, headers, body) = exchange(req).await;
    assert_eq!(got, status, "{body}");
    (body, operation_id(&headers))
}

/// The trail (with `query`), asserting 200; the entries and `Total-Count`.
async fn trail(server: &TestServer, tenant: &str, query: &str) -> (Vec<Value>, u64) {
    let path = format!("{}{query}", audit_path(tenant));
    let (status, headers, body) = exchange(server.get(&path)).await;
    assert_eq!(status, 200, "{body}");
    let mut entries = body.as_array().expect("a JSON array").clone();
    let seqs: Vec<i64> = entries
        .iter()
        .map(|e| e["Sequence"].as_i64().expect("a Sequence"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    // The assertions below read the page oldest first.
    entries.reverse();
    for entry in &entries {
        let keys: Vec<&str> = entry
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, FIELDS, "{entry}");
    }
    (entries, total_count(&headers))
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["Action"].as_str().expect("an Action"))
        .collect()
}

/// One expected step of the trail.
struct Step {
    action: &'static str,
    secret: Option<i64>,
    operation: String,
}

async fn the_secret_lifecycle_is_in_the_trail_without_any_value(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let token = access_token(&server, &admin).await;
    let req = |method: Method, path: &str| as_caller(&server, method, path, &token);
    let mut values = vec![admin.secret.clone()];

    let before = Utc::now();
    for (n, kind) in KINDS.into_iter().enumerate() {
        let client = format!("billing-{n}");
        let clients = format!("/api/v1/Tenants/{tenant}/{kind}");
        let body = json!({"Id": client, "Name": "Billing", "SecretDescription": "bootstrap"});
        let (created, op) = send(req(Method::POST, &clients).json(&body), 201).await;
        values.push(created["Secret"].as_str().unwrap().to_owned());
        let mut steps = vec![Step {
            action: "client.create",
            secret: Some(1),
            operation: op,
        }];
        let one = format!("{clients}/{client}");
        let secrets = format!("{one}/Secrets");
        let mut step = |action, secret, operation| {
            steps.push(Step {
                action,
                secret,
                operation,
            })
        };

        let rename = json!({"Name": "Billing (prod)"});
        let (_, op) = send(req(Method::PUT, &one).json(&rename), 200).await;
        step("client.update", None, op);
        let body = json!({"Description": "deploy key"});
        let (added, op) = send(req(Method::POST, &secrets).json(&body), 201).await;
        assert_eq!(added["Id"], 2);
        values.push(added["Secret"].as_str().unwrap().to_owned());
        step("secret.create", Some(2), op);
        let two = format!("{secrets}/2");
        let body = json!({"Description": "deploy key (prod)"});
        let (_, op) = send(req(Method::PUT, &two).json(&body), 200).await;
        step("secret.update", Some(2), op);
        let body = json!({"Value": "a-supplied-value-that-must-never-be-audited-42"});
        let (_, op) = send(req(Method::PUT, &two).json(&body), 200).await;
        values.push("a-supplied-value-that-must-never-be-audited-42".to_owned());
        step("secret.update", Some(2), op);
        let renew = json!({"GracePeriodSeconds": 3600});
        let path = format!("{two}/Renew");
        let (renewed, op) = send(req(Method::POST, &path).json(&renew), 200).await;
        values.push(renewed["Secret"].as_str().unwrap().to_owned());
        step("secret.renew", Some(2), op);
        let (_, op) = send(req(Method::POST, &format!("{two}/EndGrace")), 200).await;
        step("secret.end-grace", Some(2), op);
        let policy = client_policy(&tenant, kind, &client);
        let own = json!({"UseTenantRules": false, "Unit": "DAYS", "Duration": 9});
        let (_, op) = send(req(Method::PUT, &policy).json(&own), 200).await;
        step("client.policy.update", None, op);
        let (_, op) = send(req(Method::DELETE, &two), 204).await;
        step("secret.revoke", Some(2), op);
        let (_, op) = send(req(Method::DELETE, &one), 204).await;
        step("client.revoke", None, op);
        let after = Utc::now();

        // The client is gone; its entries are not.
        expect_error(server.get(&one), 404, "NotFound").await;
        let (entries, total) = trail(&server, &tenant, &format!("?clientId={client}")).await;
        let want: Vec<&str> = steps.iter().map(|s| s.action).collect();
        assert_eq!(actions(&entries), want);
        assert_eq!(total, want.len() as u64);
        let mut last: Option<(i64, DateTime<Utc>)> = None;
        for (entry, step) in entries.iter().zip(&steps) {
            assert_eq!(entry["ActorType"], "client", "{entry}");
            assert_eq!(entry["Actor"], admin.id, "{entry}");
            assert_eq!(entry["Outcome"], "success", "{entry}");
            if step.action == "client.update" {
                assert_eq!(entry["Reason"], "changed Name", "what changed: {entry}");
            } else {
                assert_eq!(entry["Reason"], Value::Null, "{entry}");
            }
            assert_eq!(entry["TenantId"], tenant, "{entry}");
            assert_eq!(entry["ClientType"], kind, "{entry}");
            assert_eq!(entry["ClientId"], client, "{entry}");
            assert_eq!(entry["SecretId"], json!(step.secret), "{entry}");
            assert_eq!(entry["SourceAddress"], "127.0.0.1", "{entry}");
            assert_eq!(entry["OperationId"], step.operation, "{entry}");
            let at = time(&entry["Time"]);
            assert!(
                before <= at && at <= after,
                "{entry} outside {before}..{after}"
            );
            let seq = entry["Sequence"].as_i64().expect("a Sequence");
            if let Some((seq0, at0)) = last {
                assert!(seq > seq0 && at >= at0, "{entry} is not after {seq0} {at0}");
            }
            last = Some((seq, at));
        }
    }

    // The tenant's own changes: its policy, and its creation by the platform.
    let body = json!({"Unit": "DAYS", "Duration": 20});
    let (_, op) = send(req(Method::PUT, &tenant_policy(&tenant)).json(&body), 200).await;
    let (entries, total) = trail(&server, &tenant, "?action=tenant.policy.update").await;
    assert_eq!(total, 1);
    let entry = &entries[0];
    assert_eq!(
        (
            &entry["OperationId"],
            &entry["Actor"],
            &entry["ClientId"],
            &entry["SecretId"]
        ),
        (&json!(op), &json!(admin.id), &Value::Null, &Value::Null)
    );
    let (entries, _) = trail(&server, &tenant, "").await;
    assert_eq!(entries[0]["Action"], "tenant.create", "{entries:?}");
    assert_eq!(entries[0]["ActorType"], "platform");
    assert_eq!(entries[0]["Actor"], "bootstrap-token");
    assert_eq!(entries[0]["TenantId"], tenant);

    // No secret value, whole or in part, anywhere in the raw trail (HEAD shows no body).
    let path = format!("{}?count=1000", audit_path(&tenant));
    let res = server.get(&path).send().await.unwrap();
    assert_eq!(
        res.headers()["Total-Count"].to_str().unwrap(),
        entries.len().to_string()
    );
    let raw = res.text().await.unwrap();
    assert!(raw.len() > 1000, "{raw}");
    for value in &values {
        for start in 0..=value.len() - 16 {
            let slice = &value[start..start + 16];
            assert!(
                !raw.contains(slice),
                "the trail holds {slice:?} of a secret value"
            );
        }
    }
}

async fn the_trail_filters_and_pages(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let kind = KINDS[0];
    let clients = format!("/api/v1/Tenants/{tenant}/{kind}");
    for id in ["alpha", "beta"] {
        let body = json!({"Id": id, "Name": id});
        call(server.post(&clients).json(&body), 201).await;
        for n in 0..3 {
            let body = json!({"Description": format!("key {n}")});
            call(
                server.post(&format!("{clients}/{id}/Secrets")).json(&body),
                201,
            )
            .await;
        }
    }
    let renew = format!("{clients}/alpha/Secrets/3/Renew");
    call(server.post(&renew).json(&json!({})), 200).await;

    // Everything: tenant.create, then 2 × (client.create + 3 secret.create), then the renew.
    let (all, total) = trail(&server, &tenant, "").await;
    assert_eq!(total, 10);
    let mut want = vec!["tenant.create"];
    for _ in 0..2 {
        want.extend([
            "client.create",
            "secret.create",
            "secret.create",
            "secret.create",
        ]);
    }
    want.push("secret.renew");
    assert_eq!(actions(&all), want);
    let seqs: Vec<i64> = all
        .iter()
        .map(|e| e["Sequence"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let (alpha, total) = trail(&server, &tenant, "?clientId=alpha").await;
    assert_eq!(total, 5);
    assert!(alpha.iter().all(|e| e["ClientId"] == "alpha"), "{alpha:?}");
    assert_eq!(alpha[4]["Action"], "secret.renew");
    assert_eq!(alpha[4]["SecretId"], 3);
    let (none, total) = trail(&server, &tenant, "?clientId=gamma").await;
    assert_eq!((none.len(), total), (0, 0));

    let (creates, total) = trail(&server, &tenant, "?action=secret.create").await;
    assert_eq!(total, 6);
    let (upper, _) = trail(&server, &tenant, "?action=SECRET.CREATE").await;
    assert_eq!(upper, creates, "action names match in any case");
    // An action that is never written is a 400 listing the real ones, not an empty page.
    let unknown = format!("{}?action=secret.delete", audit_path(&tenant));
    let (error, _) = send(server.get(&unknown), 400).await;
    assert_eq!(error["Field"], "action", "{error}");
    let reason = error["Reason"].as_str().unwrap();
    for known in [
        "secret.revoke",
        "secret.create",
        "token.request",
        "client.update",
    ] {
        assert!(reason.contains(known), "{reason}");
    }
    let ids: Vec<(&str, i64)> = creates
        .iter()
        .map(|e| {
            (
                e["ClientId"].as_str().unwrap(),
                e["SecretId"].as_i64().unwrap(),
            )
        })
        .collect();
    let want = [2, 3, 4]
        .map(|n| ("alpha", n))
        .into_iter()
        .chain([2, 3, 4].map(|n| ("beta", n)));
    assert_eq!(ids, want.collect::<Vec<_>>());
    let (both, total) = trail(&server, &tenant, "?clientId=beta&action=client.create").await;
    assert_eq!((total, both[0]["ClientId"].as_str()), (1, Some("beta")));

    // Time range: from inclusive, to exclusive, on the entries' own times.
    let t = |i: usize| all[i]["Time"].as_str().unwrap().to_owned();
    let enc = |s: String| s.replace('+', "%2B");
    let query = format!("?from={}&to={}", enc(t(2)), enc(t(5)));
    let (range, total) = trail(&server, &tenant, &query).await;
    let within: Vec<i64> = range
        .iter()
        .map(|e| e["Sequence"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = all
        .iter()
        .filter(|e| {
            let at = time(&e["Time"]);
            at >= time(&all[2]["Time"]) && at < time(&all[5]["Time"])
        })
        .map(|e| e["Sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(within, want);
    assert!(
        within.contains(&seqs[2]) && !within.contains(&seqs[5]),
        "{within:?}"
    );
    assert_eq!(total, want.len() as u64);
    let (after, _) = trail(&server, &tenant, &format!("?from={}", enc(t(9)))).await;
    assert_eq!(actions(&after), ["secret.renew"]);
    // The same instant in another offset.
    let east = chrono::FixedOffset::east_opt(2 * 3600).unwrap();
    let shifted = time(&all[9]["Time"]).with_timezone(&east);
    let shifted = shifted.to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    let (after, _) = trail(&server, &tenant, &format!("?from={}", enc(shifted))).await;
    assert_eq!(actions(&after), ["secret.renew"]);
    let (before, _) = trail(&server, &tenant, &format!("?to={}", enc(t(1)))).await;
    assert!(
        actions(&before).iter().all(|a| *a == "tenant.create"),
        "{before:?}"
    );
    let (later, total) = trail(&server, &tenant, "?from=2999-01-01T00:00:00Z").await;
    assert_eq!((later.len(), total), (0, 0));

    // Paging: skip/count over the filtered list, Total-Count of all of it.
    let (page, total) = trail(&server, &tenant, "?skip=2&count=3").await;
    assert_eq!(total, 10);
    let page_seqs: Vec<i64> = page
        .iter()
        .map(|e| e["Sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(page_seqs, seqs[5..8], "pages count from the newest");
    let (page, total) = trail(&server, &tenant, "?action=secret.create&skip=5&count=10").await;
    assert_eq!((page.len(), total), (1, 6));
    assert_eq!(
        (&page[0]["ClientId"], &page[0]["SecretId"]),
        (&json!("alpha"), &json!(2))
    );
    let (page, total) = trail(&server, &tenant, "?count=0").await;
    assert_eq!((page.len(), total), (0, 10));
    let head = server.head(&format!("{}?clientId=alpha", audit_path(&tenant)));
    let (status, headers, body) = exchange(head).await;
    assert_eq!((status, total_count(&headers), body), (200, 5, Value::Null));

    // Bad filters: 400 naming the parameter.
    let bad = |query: &str| server.get(&format!("{}{query}", audit_path(&tenant)));
    expect_invalid(bad("?from=yesterday"), "from").await;
    expect_invalid(bad("?to=2026-13-01T00:00:00Z"), "to").await;
    expect_invalid(
        bad("?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"),
        "to",
    )
    .await;
    expect_invalid(bad("?count=1001"), "count").await;
    expect_invalid(bad("?skip=-1"), "skip").await;
}

async fn refusals_are_audited_and_only_administrators_and_auditors_read_the_trail(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let kind = KINDS[1];
    let created = server
        .create_client(&tenant, kind, json!({"Id": "shop", "Name": "Shop"}))
        .await;
    assert_eq!(created["Client"]["Id"], "shop");
    let member = cc_client(&server, &tenant, &["tenant-member"]).await;
    let member_token = access_token(&server, &member).await;
    let auditor = token_with(&server, &tenant, "tenant-auditor").await;
    let admin = token_with(&server, &tenant, "tenant-administrator").await;
    let path = audit_path(&tenant);

    // A member may not add a secret, renew one, or read the trail.
    let secrets = format!("/api/v1/Tenants/{tenant}/{kind}/shop/Secrets");
    let add = as_caller(&server, Method::POST, &secrets, &member_token).json(&json!({}));
    let (_, add_op) = send(add, 403).await;
    let renew = format!("{secrets}/1/Renew");
    let renew = as_caller(&server, Method::POST, &renew, &member_token).json(&json!({}));
    let (_, renew_op) = send(renew, 403).await;
    let (_, read_op) = send(as_caller(&server, Method::GET, &path, &member_token), 403).await;
    let clients = format!("/api/v1/Tenants/{tenant}/{kind}");
    let body = json!({"Id": "sneaky", "Name": "x"});
    let create = as_caller(&server, Method::POST, &clients, &member_token).json(&body);
    let (_, create_op) = send(create, 403).await;
    let policy = client_policy(&tenant, kind, "shop");
    let body = json!({"UseTenantRules": false, "Unit": "NONE"});
    let put = as_caller(&server, Method::PUT, &policy, &member_token).json(&body);
    let (_, policy_op) = send(put, 403).await;
    let head = as_caller(&server, Method::HEAD, &path, &member_token);
    assert_eq!(exchange(head).await.0, 403);
    // Nor delete the tenant (platform administrators only).
    let tenant_path = format!("/api/v1/Tenants/{tenant}");
    let (_, delete_op) = send(
        as_caller(&server, Method::DELETE, &tenant_path, &admin),
        403,
    )
    .await;

    // Auditors and administrators read it; the refusals are there.
    for token in [&auditor, &admin] {
        call(as_caller(&server, Method::GET, &path, token), 200).await;
    }
    let query = "?action=secrets.write";
    let (status, _, refused) = exchange(as_caller(
        &server,
        Method::GET,
        &format!("{path}{query}"),
        &auditor,
    ))
    .await;
    assert_eq!(status, 200, "{refused}");
    // Listed newest first; read oldest first.
    let mut refused = refused.as_array().unwrap().clone();
    refused.reverse();
    // The policy change's refusal is identical to the added secret's (same actor,
    // action, client, reason, source): within the same minute the two fold into
    // one entry counting both, else each has its own.
    let counts: Vec<i64> = refused
        .iter()
        .map(|e| e["Count"].as_i64().unwrap())
        .collect();
    assert!(counts == [2, 1] || counts == [1, 1, 1], "{refused:?}");
    let want = [(&add_op, None), (&renew_op, Some(1)), (&policy_op, None)];
    for (entry, (op, secret)) in refused.iter().zip(want) {
        assert_eq!(entry["Outcome"], "refused", "{entry}");
        assert_eq!(entry["ActorType"], "client", "{entry}");
        assert_eq!(entry["Actor"], member.id, "{entry}");
        assert_eq!(entry["TenantId"], tenant, "{entry}");
        assert_eq!(entry["ClientType"], kind, "{entry}");
        assert_eq!(entry["ClientId"], "shop", "{entry}");
        assert_eq!(entry["SecretId"], json!(secret), "{entry}");
        assert_eq!(entry["SourceAddress"], "127.0.0.1", "{entry}");
        assert_eq!(entry["OperationId"], **op, "{entry}");
        let reason = entry["Reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{entry}");
    }
    let (reads, _) = trail(&server, &tenant, "?action=audit.read").await;
    let ops: BTreeSet<&str> = reads
        .iter()
        .filter(|e| e["Outcome"] == "refused")
        .map(|e| e["OperationId"].as_str().unwrap())
        .collect();
    assert!(ops.contains(read_op.as_str()), "{reads:?}");
    let (creates, total) = trail(&server, &tenant, "?action=clients.write").await;
    assert_eq!(total, 1, "{creates:?}");
    let entry = &creates[0];
    assert_eq!(
        (&entry["Outcome"], &entry["OperationId"], &entry["Actor"]),
        (&json!("refused"), &json!(create_op), &json!(member.id))
    );
    assert_eq!(
        (&entry["ClientType"], &entry["ClientId"], &entry["SecretId"]),
        (&json!(kind), &json!("sneaky"), &Value::Null)
    );
    let (deletes, total) = trail(&server, &tenant, "?action=tenant.delete").await;
    assert_eq!(total, 1, "{deletes:?}");
    assert_eq!(
        (&deletes[0]["Outcome"], &deletes[0]["OperationId"]),
        (&json!("refused"), &json!(delete_op))
    );
    // Nothing was added.
    let (creates, _) = trail(&server, &tenant, "?clientId=shop&action=secret.create").await;
    assert!(creates.is_empty(), "{creates:?}");

    // Another tenant's administrator: 403; an unknown tenant: 404.
    let other = server.create_tenant().await;
    let stranger = token_with(&server, &other, "tenant-administrator").await;
    let get = as_caller(&server, Method::GET, &path, &stranger);
    expect_error(get, 403, "Forbidden").await;
    let missing = audit_path(&uuid::Uuid::new_v4().to_string());
    expect_error(server.get(&missing), 404, "NotFound").await;
    expect_error(server.http.get(server.url(&path)), 401, "Unauthorized").await;

    // No route writes or deletes an entry.
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let req = server.http.request(method.clone(), server.url(&path));
        let req = req.bearer_auth(&server.token).json(&json!({}));
        expect_error(req, 405, "MethodNotAllowed").await;
    }
    let (entries, total) = trail(&server, &tenant, "").await;
    let first = entries[0]["Sequence"].as_i64().unwrap();
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let one = format!("{path}/{first}");
        let req = server.http.request(method, server.url(&one));
        let (status, _, body) = exchange(req.bearer_auth(&server.token)).await;
        assert!(status == 404 || status == 405, "{status} {body}");
    }
    let (again, total_again) = trail(&server, &tenant, "").await;
    assert_eq!(total_again, total);
    assert_eq!(again, entries);
}

/// The entry is written with the change: a change that fails leaves none.
async fn failed_changes_leave_no_entry(backend: Backend) {
    let options = ServerOptions {
        env: vec![(
            "LATCHKEY_APPLICATIONS__SECRETSMAX".to_owned(),
            "2".to_owned(),
        )],
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(backend, options).await;
    let tenant = server.create_tenant().await;
    let clients = format!("/api/v1/Tenants/{tenant}/{}", KINDS[0]);
    let body = json!({"Id": "dup", "Name": "Dup"});
    let (created, op) = send(server.post(&clients).json(&body), 201).await;
    expect_error(server.post(&clients).json(&body), 409, "Conflict").await;
    let secrets = format!("{clients}/dup/Secrets");
    let (added, _) = send(server.post(&secrets).json(&json!({})), 201).await;
    assert_eq!((&created["Id"], &added["Id"]), (&json!(1), &json!(2)));
    let full = server.post(&secrets).json(&json!({}));
    expect_error(full, 400, "LimitReached").await;
    let past = server
        .post(&secrets)
        .json(&json!({"Expiration": "2001-01-01T00:00:00Z"}));
    expect_invalid(past, "Expiration").await;
    expect_error(server.delete(&format!("{secrets}/9")), 404, "NotFound").await;
    let renew = server.post(&format!("{secrets}/2/Renew"));
    expect_invalid(
        renew.json(&json!({"GracePeriodSeconds": -5})),
        "GracePeriodSeconds",
    )
    .await;

    let (entries, total) = trail(&server, &tenant, "?clientId=dup").await;
    assert_eq!(actions(&entries), ["client.create", "secret.create"]);
    assert_eq!((total, &entries[0]["OperationId"]), (2, &json!(op)));
}

/// Webhook entries name the URL (without its query, which may carry a receiver's
/// token): the new one, the old and the new on a change, the removed one.
async fn webhook_entries_name_their_url(backend: Backend) {
    let yaml = crate::webhooks::notify_yaml(&[], None);
    let server = crate::webhooks::start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let hooks = crate::webhooks::webhooks_path(&tenant);
    let body = json!({"Url": "http://127.0.0.1:9/a?token=hidden-receiver-token"});
    let created = call(server.post(&hooks).json(&body), 201).await;
    let one = format!("{hooks}/{}", created["Id"].as_str().unwrap());
    call(
        server
            .put(&one)
            .json(&json!({"Url": "http://127.0.0.1:9/b"})),
        200,
    )
    .await;
    call(server.delete(&one), 204).await;
    let reasons = |action: &'static str| {
        let server = &server;
        let tenant = tenant.clone();
        async move {
            let (entries, _) = trail(server, &tenant, &format!("?action={action}")).await;
            entries
                .iter()
                .map(|e| e["Reason"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        reasons("webhook.create").await,
        ["Url: http://127.0.0.1:9/a (query omitted)"]
    );
    assert_eq!(
        reasons("webhook.update").await,
        ["Url: http://127.0.0.1:9/a (query omitted) → http://127.0.0.1:9/b"]
    );
    assert_eq!(
        reasons("webhook.delete").await,
        ["Url: http://127.0.0.1:9/b"]
    );
    let (all, _) = trail(&server, &tenant, "").await;
    assert!(!format!("{all:?}").contains("hidden-receiver-token"));
}

both_backends!(
    webhook_entries_name_their_url,
    failed_changes_leave_no_entry,
    the_secret_lifecycle_is_in_the_trail_without_any_value,
    the_trail_filters_and_pages,
    refusals_are_audited_and_only_administrators_and_auditors_read_the_trail,
);
