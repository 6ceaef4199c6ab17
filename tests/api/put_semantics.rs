//! One meaning for PUT on every route (README, "Changing a resource: PUT"): an
//! absent field keeps its value, `null` clears a field that may be empty, and `null`
//! on one that cannot be empty is a 400 naming it. Policies, webhooks, recipients here;
//! clients and secrets in their own files.

use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{KINDS, call, expect_invalid};
use crate::policies::{client_policy, tenant_policy};
use crate::webhooks::webhooks_path;

async fn a_tenant_rule_change_keeps_the_maximum_lifetime(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let path = tenant_policy(&tenant);
    let capped = json!({"Unit": "DAYS", "Duration": 30,
                        "MaximumLifetime": {"Unit": "DAYS", "Duration": 180},
                        "AllowSelfRotation": true});
    call(server.put(&path).json(&capped), 200).await;

    // The example: naming only the rule used to drop the security cap.
    let rule = call(
        server
            .put(&path)
            .json(&json!({"Unit": "DAYS", "Duration": 90})),
        200,
    )
    .await;
    let want = json!({"Unit": "DAYS", "Duration": 90,
                      "MaximumLifetime": {"Unit": "DAYS", "Duration": 180},
                      "UsesConfiguredDefault": false, "AllowSelfRotation": true});
    assert_eq!(rule, want);
    assert_eq!(call(server.get(&path), 200).await, want);

    // Back to the configured default keeps the maximum too; an empty body changes nothing.
    let configured = json!({"UsesConfiguredDefault": true});
    let back = call(server.put(&path).json(&configured), 200).await;
    assert_eq!(back["MaximumLifetime"], want["MaximumLifetime"]);
    assert_eq!(back["UsesConfiguredDefault"], json!(true));
    assert_eq!(call(server.put(&path).json(&json!({})), 200).await, back);

    // What GET shows can be sent back unchanged.
    assert_eq!(call(server.put(&path).json(&back), 200).await, back);

    // null removes the maximum, and only that.
    let cleared = json!({"MaximumLifetime": null});
    let free = call(server.put(&path).json(&cleared), 200).await;
    let mut want_free = back.clone();
    want_free["MaximumLifetime"] = json!(null);
    assert_eq!(free, want_free);

    // null where a value is needed is refused by name; a Duration needs its Unit.
    for field in ["Unit", "AllowSelfRotation", "UsesConfiguredDefault"] {
        expect_invalid(server.put(&path).json(&json!({ field: null })), field).await;
    }
    expect_invalid(server.put(&path).json(&json!({"Duration": 3})), "Unit").await;
    let own_without_unit = json!({"UsesConfiguredDefault": false});
    expect_invalid(server.put(&path).json(&own_without_unit), "Unit").await;
    assert_eq!(
        call(server.get(&path), 200).await,
        want_free,
        "a refused change changes nothing"
    );
}

async fn a_client_policy_put_keeps_what_it_does_not_name(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    for kind in KINDS {
        let created = server
            .create_client(&tenant, kind, json!({"Name": "app"}))
            .await;
        let client = created["Client"]["Id"].as_str().unwrap().to_owned();
        let path = client_policy(&tenant, kind, &client);
        let own = json!({"Unit": "WEEKS", "Duration": 4});
        let set = call(server.put(&path).json(&own), 200).await;
        assert_eq!(
            (&set["UseTenantRules"], &set["Unit"], &set["Duration"]),
            (&json!(false), &json!("WEEKS"), &json!(4))
        );
        // An empty body keeps the client's own rule (it used to reset it).
        assert_eq!(call(server.put(&path).json(&json!({})), 200).await, set);
        // What GET shows can be sent back unchanged, in both states.
        let shown = call(server.get(&path), 200).await;
        let mut body = shown.clone();
        for read_only in ["EffectiveUnit", "EffectiveDuration", "EffectiveCapped"] {
            body.as_object_mut().unwrap().remove(read_only);
        }
        assert_eq!(call(server.put(&path).json(&body), 200).await, shown);
        // Contradictions and nulls are refused by name.
        let contradiction = json!({"UseTenantRules": false, "Unit": null});
        expect_invalid(server.put(&path).json(&contradiction), "Unit").await;
        expect_invalid(
            server.put(&path).json(&json!({"UseTenantRules": null})),
            "UseTenantRules",
        )
        .await;
        expect_invalid(server.put(&path).json(&json!({"Duration": 2})), "Unit").await;
        assert_eq!(call(server.get(&path), 200).await, shown);
        // null Unit: back to the tenant's rules.
        let tenant_rules = call(server.put(&path).json(&json!({"Unit": null})), 200).await;
        assert_eq!(
            (&tenant_rules["UseTenantRules"], &tenant_rules["Unit"]),
            (&json!(true), &json!(null))
        );
        let mut body = tenant_rules.clone();
        for read_only in ["EffectiveUnit", "EffectiveDuration", "EffectiveCapped"] {
            body.as_object_mut().unwrap().remove(read_only);
        }
        assert_eq!(call(server.put(&path).json(&body), 200).await, tenant_rules);
    }
}

async fn a_webhook_put_keeps_absent_fields_and_null_empties(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let hooks = webhooks_path(&tenant);
    let body = json!({"Url": "https://hooks.example.com/a", "Description": "ops",
                      "EventTypes": ["secret.revoked"]});
    let created = call(server.post(&hooks).json(&body), 201).await;
    let one = format!("{hooks}/{}", created["Id"].as_str().unwrap());
    let before = call(server.get(&one), 200).await;

    let same = call(server.put(&one).json(&json!({})), 200).await;
    assert_eq!(same["Description"], before["Description"]);
    assert_eq!(same["EventTypes"], before["EventTypes"]);
    for field in ["Url", "Enabled"] {
        expect_invalid(server.put(&one).json(&json!({ field: null })), field).await;
    }
    let nulls = json!({"Description": null, "EventTypes": null});
    let emptied = call(server.put(&one).json(&nulls), 200).await;
    assert_eq!(emptied["Description"], json!(""));
    assert_eq!(emptied["Url"], before["Url"]);
    assert_eq!(
        emptied["EventTypes"],
        json!([]),
        "null event types: [], every type"
    );
}

async fn a_client_put_clears_uris_with_null_and_keeps_the_rest(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let body = json!({"Id": "web", "Name": "web", "ClientUri": "https://app.example.com",
                      "LogoUri": "https://app.example.com/logo.png",
                      "RedirectUris": ["https://app.example.com/cb"]});
    server.create_client(&tenant, "HybridClients", body).await;
    let path = format!("/api/v1/Tenants/{tenant}/HybridClients/web");
    let before = call(server.get(&path), 200).await;
    let nulls = json!({"ClientUri": null, "RedirectUris": null});
    let after = call(server.put(&path).json(&nulls), 200).await;
    assert_eq!(
        (&after["ClientUri"], &after["RedirectUris"]),
        (&json!(null), &json!([]))
    );
    assert_eq!(after["LogoUri"], before["LogoUri"], "absent: kept");
    assert_eq!(after["Name"], before["Name"]);
    for field in ["AllowOfflineAccess", "AllowAccessTokensViaBrowser"] {
        expect_invalid(server.put(&path).json(&json!({ field: null })), field).await;
    }
}

async fn recipients_put_keeps_them_when_absent_and_null_removes_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let path = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    let two = json!({"Recipients": ["ops@example.com", "sec@example.com"]});
    let set = call(server.put(&path).json(&two), 200).await;
    assert_eq!(set["Recipients"], two["Recipients"]);
    // {} used to remove every recipient; now it changes nothing.
    let kept = call(server.put(&path).json(&json!({})), 200).await;
    assert_eq!(kept["Recipients"], two["Recipients"]);
    assert_eq!(
        call(server.get(&path), 200).await["Recipients"],
        two["Recipients"]
    );
    let none = call(server.put(&path).json(&json!({"Recipients": null})), 200).await;
    assert_eq!(none["Recipients"], json!([]));
    assert_eq!(call(server.get(&path), 200).await["Recipients"], json!([]));
}

/// `answer` without its read-only fields: what a client sends back.
fn writable(answer: &serde_json::Value, read_only: &[&str]) -> serde_json::Value {
    let mut body = answer.clone();
    for field in read_only {
        body.as_object_mut().unwrap().remove(*field);
    }
    body
}

/// The README's promise: a GET answer, read-only fields aside, is a PUT body that
/// changes nothing — for clients of both kinds, secrets (expiring and not) and webhooks.
async fn a_get_answer_sent_back_changes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let stamps = ["Id", "CreatedAt", "UpdatedAt"];
    for kind in KINDS {
        // Hybrid-only fields are ignored for a client-credentials client.
        let body = json!({"Id": kind, "Name": "app", "Tags": ["t"], "RoleIds": ["tenant-member"],
                          "RedirectUris": ["https://app.example.com/cb"],
                          "ClientUri": "https://app.example.com"});
        server.create_client(&tenant, kind, body).await;
        let path = format!("/api/v1/Tenants/{tenant}/{kind}/{kind}");
        let before = call(server.get(&path), 200).await;
        call(server.put(&path).json(&writable(&before, &stamps)), 200).await;
        let after = call(server.get(&path), 200).await;
        if kind == "HybridClients" {
            assert_eq!(after["ClientUri"], "https://app.example.com", "{after}");
        }
        assert_eq!(
            writable(&after, &["UpdatedAt"]),
            writable(&before, &["UpdatedAt"])
        );

        let secrets = format!("{path}/Secrets");
        let never = call(server.post(&secrets).json(&json!({"Expires": false})), 201).await;
        for id in [json!(1), never["Id"].clone()] {
            let one = format!("{secrets}/{id}");
            let before = call(server.get(&one), 200).await;
            let read_only = [
                "Id",
                "Hint",
                "CreatedAt",
                "LastUsedAt",
                "Status",
                "GraceUntil",
                "PreviousValueLastUsedAt",
                "RefusedCount",
                "LastRefusedAt",
                "LastRefusedFrom",
            ];
            call(server.put(&one).json(&writable(&before, &read_only)), 200).await;
            let after = call(server.get(&one), 200).await;
            assert_eq!(after, before, "secret {id} of {kind}");
        }
    }
    let hooks = crate::webhooks::webhooks_path(&tenant);
    let body = json!({"Url": "https://hooks.example.com/b", "EventTypes": ["secret.renewed"]});
    let created = call(server.post(&hooks).json(&body), 201).await;
    let one = format!("{hooks}/{}", created["Id"].as_str().unwrap());
    let before = call(server.get(&one), 200).await;
    call(server.put(&one).json(&writable(&before, &stamps)), 200).await;
    let after = call(server.get(&one), 200).await;
    assert_eq!(
        writable(&after, &["UpdatedAt"]),
        writable(&before, &["UpdatedAt"])
    );
}

crate::both_backends!(
    a_get_answer_sent_back_changes_nothing,
    recipients_put_keeps_them_when_absent_and_null_removes_them,
    a_tenant_rule_change_keeps_the_maximum_lifetime,
    a_client_policy_put_keeps_what_it_does_not_name,
    a_webhook_put_keeps_absent_fields_and_null_empties,
    a_client_put_clears_uris_with_null_and_keeps_the_rest,
);
