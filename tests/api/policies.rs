//! Secret policies: the tenant's `SecretPolicy` and a
//! client's, how new and renewed secrets take their expiration from the effective
//! one, the tenant's maximum lifetime, validation naming the field, who may read and
//! write them, and that a change never alters existing secrets.

use chrono::{DateTime, Duration, Months, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, add_secret, call, expect_error, expect_invalid, get_secret, secrets_path, time,
};
use crate::oauth::{access_token, cc_client};

pub(crate) fn tenant_policy(tenant: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/SecretPolicy")
}

pub(crate) fn client_policy(tenant: &str, kind: &str, client: &str) -> String {
    format!("/api/v1/Tenants/{tenant}/{kind}/{client}/SecretPolicy")
}

/// `path` by `method` with `token` as the bearer.
pub(crate) fn as_caller(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    server
        .http
        .request(method, server.url(path))
        .bearer_auth(token)
}

/// An access token for a new client of `tenant` holding `role`.
pub(crate) async fn token_with(server: &TestServer, tenant: &str, role: &str) -> String {
    let cred = cc_client(server, tenant, &[role]).await;
    access_token(server, &cred).await
}

/// `got` is within `seconds` of `want`.
fn assert_within(got: DateTime<Utc>, want: DateTime<Utc>, seconds: i64) {
    let off = (got - want).num_milliseconds().abs();
    assert!(
        off <= seconds * 1000,
        "{got} is not within {seconds}s of {want}"
    );
}

/// The secret expires `months` calendar months after it was created.
fn assert_months_after_creation(secret: &Value, months: u32) {
    let created = time(&secret["CreatedAt"]);
    let want = created.checked_add_months(Months::new(months)).unwrap();
    assert_within(time(&secret["Expiration"]), want, 1);
    assert_eq!(secret["Expires"], true, "{secret}");
}

/// The secret expires `days` days after it was created.
fn assert_days_after_creation(secret: &Value, days: i64) {
    let created = time(&secret["CreatedAt"]);
    assert_within(
        time(&secret["Expiration"]),
        created + Duration::days(days),
        1,
    );
    assert_eq!(secret["Expires"], true, "{secret}");
}

/// The first secret of a client just created (`created` is the 201 body), as stored;
/// the creation response has no `CreatedAt`, so it is read back.
async fn first_secret(server: &TestServer, tenant: &str, kind: &str, created: &Value) -> Value {
    let client = created["Client"]["Id"].as_str().unwrap();
    let path = format!("{}/{}", secrets_path(tenant, kind, client), created["Id"]);
    let stored = get_secret(server, &path).await;
    assert_eq!(
        (&stored["Expiration"], &stored["Expires"]),
        (&created["Expiration"], &created["Expires"])
    );
    stored
}

async fn set_tenant(server: &TestServer, tenant: &str, body: Value) -> Value {
    call(server.put(&tenant_policy(tenant)).json(&body), 200).await
}

async fn tenant_policy_defaults_to_the_configured_year_and_drives_new_secrets(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let path = tenant_policy(&tenant);

    let shown = call(server.get(&path), 200).await;
    assert_eq!(
        shown,
        json!({"Unit": "YEARS", "Duration": 1, "MaximumLifetime": null,
               "UsesConfiguredDefault": true, "AllowSelfRotation": false})
    );

    let set = set_tenant(&server, &tenant, json!({"Unit": "MONTHS", "Duration": 3})).await;
    let want = json!({"Unit": "MONTHS", "Duration": 3, "MaximumLifetime": null,
                      "UsesConfiguredDefault": false, "AllowSelfRotation": false});
    assert_eq!(set, want);
    assert_eq!(call(server.get(&path), 200).await, want);

    for kind in KINDS {
        // The first secret of a client created after the change follows the tenant policy.
        let created = server
            .create_client(&tenant, kind, json!({"Name": "app"}))
            .await;
        assert_months_after_creation(&first_secret(&server, &tenant, kind, &created).await, 3);
        let client = created["Client"]["Id"].as_str().unwrap();
        let secrets = secrets_path(&tenant, kind, client);
        let added = add_secret(&server, &secrets, json!({"Description": "more"})).await;
        assert_months_after_creation(&added, 3);
        // The client follows the tenant's rules by default.
        let own = call(server.get(&client_policy(&tenant, kind, client)), 200).await;
        assert_eq!(
            own,
            json!({"UseTenantRules": true, "Unit": null, "Duration": null,
                   "EffectiveUnit": "MONTHS", "EffectiveDuration": 3, "EffectiveCapped": false})
        );
    }

    // Back to the configured default (Unit and Duration ignored), keeping a maximum.
    let back = json!({"UsesConfiguredDefault": true, "Unit": "DAYS", "Duration": 5,
                      "MaximumLifetime": {"Unit": "YEARS", "Duration": 2}});
    let want = json!({"Unit": "YEARS", "Duration": 1,
                      "MaximumLifetime": {"Unit": "YEARS", "Duration": 2},
                      "UsesConfiguredDefault": true, "AllowSelfRotation": false});
    assert_eq!(set_tenant(&server, &tenant, back).await, want);
    assert_eq!(call(server.get(&path), 200).await, want);
    let created = server
        .create_client(&tenant, KINDS[0], json!({"Name": "again"}))
        .await;
    assert_months_after_creation(
        &first_secret(&server, &tenant, KINDS[0], &created).await,
        12,
    );
    let missing_unit = server
        .put(&path)
        .json(&json!({"UsesConfiguredDefault": false, "Duration": 3}));
    expect_invalid(missing_unit, "Unit").await;
}

async fn client_policy_wins_and_none_means_never(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    set_tenant(&server, &tenant, json!({"Unit": "MONTHS", "Duration": 3})).await;
    for kind in KINDS {
        let created = server
            .create_client(&tenant, kind, json!({"Name": "app"}))
            .await;
        let client = created["Client"]["Id"].as_str().unwrap();
        let policy = client_policy(&tenant, kind, client);
        let secrets = secrets_path(&tenant, kind, client);

        let own = json!({"UseTenantRules": false, "Unit": "DAYS", "Duration": 7});
        let shown = call(server.put(&policy).json(&own), 200).await;
        let want = json!({"UseTenantRules": false, "Unit": "DAYS", "Duration": 7,
                          "EffectiveUnit": "DAYS", "EffectiveDuration": 7, "EffectiveCapped": false});
        assert_eq!(shown, want);
        assert_eq!(call(server.get(&policy), 200).await, want);
        let weekly = add_secret(&server, &secrets, json!({})).await;
        assert_days_after_creation(&weekly, 7);

        let never = json!({"UseTenantRules": false, "Unit": "NONE"});
        let shown = call(server.put(&policy).json(&never), 200).await;
        assert_eq!(
            shown,
            json!({"UseTenantRules": false, "Unit": "NONE", "Duration": null,
                   "EffectiveUnit": "NONE", "EffectiveDuration": null, "EffectiveCapped": false})
        );
        let forever = add_secret(&server, &secrets, json!({})).await;
        assert_eq!(
            (&forever["Expires"], &forever["Expiration"]),
            (&json!(false), &Value::Null),
            "{forever}"
        );
        // Expires true with a NONE policy and no date: nothing to expire at.
        let req = server.post(&secrets).json(&json!({"Expires": true}));
        expect_invalid(req, "Expiration").await;

        // A rule with UseTenantRules: true is a contradiction, named; nothing changes.
        let both = json!({"UseTenantRules": true, "Unit": "DAYS", "Duration": 7});
        expect_invalid(server.put(&policy).json(&both), "UseTenantRules").await;
        let unchanged = call(server.get(&policy), 200).await;
        assert_eq!(unchanged["Unit"], "NONE", "{unchanged}");
        // A rule without UseTenantRules is used (not thrown away).
        let weeks = json!({"Unit": "WEEKS", "Duration": 4});
        let shown = call(server.put(&policy).json(&weeks), 200).await;
        assert_eq!(
            (
                &shown["UseTenantRules"],
                &shown["EffectiveUnit"],
                &shown["EffectiveDuration"]
            ),
            (&json!(false), &json!("WEEKS"), &json!(4)),
            "{shown}"
        );
        let back = json!({"UseTenantRules": true});
        let shown = call(server.put(&policy).json(&back), 200).await;
        assert_eq!(
            shown,
            json!({"UseTenantRules": true, "Unit": null, "Duration": null,
                   "EffectiveUnit": "MONTHS", "EffectiveDuration": 3, "EffectiveCapped": false})
        );
        // UseTenantRules defaults to true.
        call(server.put(&policy).json(&json!({})), 200).await;
        let tenants = add_secret(&server, &secrets, json!({})).await;
        assert_months_after_creation(&tenants, 3);

        // None of the changes touched the secrets created before them.
        let first = format!("{secrets}/{}", created["Id"]);
        let weekly_path = format!("{secrets}/{}", weekly["Id"]);
        let forever_path = format!("{secrets}/{}", forever["Id"]);
        assert_eq!(
            get_secret(&server, &first).await["Expiration"],
            created["Expiration"]
        );
        assert_eq!(
            get_secret(&server, &weekly_path).await["Expiration"],
            weekly["Expiration"]
        );
        let still = get_secret(&server, &forever_path).await;
        assert_eq!(
            (&still["Expires"], &still["Expiration"]),
            (&json!(false), &Value::Null)
        );
    }
}

async fn renew_follows_the_current_policy_and_changes_leave_secrets_alone(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    for kind in KINDS {
        let created = server
            .create_client(&tenant, kind, json!({"Name": "app"}))
            .await;
        let client = created["Client"]["Id"].as_str().unwrap();
        let secrets = secrets_path(&tenant, kind, client);
        let one = format!("{secrets}/{}", created["Id"]);
        assert_months_after_creation(&first_secret(&server, &tenant, kind, &created).await, 12);

        set_tenant(&server, &tenant, json!({"Unit": "WEEKS", "Duration": 2})).await;
        let unchanged = get_secret(&server, &one).await;
        assert_eq!(unchanged["Expiration"], created["Expiration"]);
        assert_eq!(unchanged["Expires"], true);

        let before = Utc::now();
        let renewed = call(server.post(&format!("{one}/Renew")).json(&json!({})), 200).await;
        let after = Utc::now();
        let expiration = time(&renewed["Expiration"]);
        assert!(
            expiration >= before + Duration::weeks(2) - Duration::seconds(1)
                && expiration <= after + Duration::weeks(2) + Duration::seconds(1),
            "renewed {renewed} does not expire two weeks after the renewal"
        );

        let policy = client_policy(&tenant, kind, client);
        let own = json!({"UseTenantRules": false, "Unit": "NONE"});
        call(server.put(&policy).json(&own), 200).await;
        assert_eq!(
            get_secret(&server, &one).await["Expiration"],
            renewed["Expiration"],
            "a client policy change leaves the secret alone"
        );
        let renewed = call(server.post(&format!("{one}/Renew")).json(&json!({})), 200).await;
        assert_eq!(
            (&renewed["Expires"], &renewed["Expiration"]),
            (&json!(false), &Value::Null),
            "{renewed}"
        );
        call(
            server.put(&policy).json(&json!({"UseTenantRules": true})),
            200,
        )
        .await;
        set_tenant(&server, &tenant, json!({"Unit": "YEARS", "Duration": 1})).await;
    }
}

async fn maximum_lifetime_caps_policies_and_refuses_longer_secrets(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let body = json!({"Unit": "YEARS", "Duration": 2,
                      "MaximumLifetime": {"Unit": "DAYS", "Duration": 30}});
    let shown = set_tenant(&server, &tenant, body).await;
    assert_eq!(
        shown,
        json!({"Unit": "YEARS", "Duration": 2,
               "MaximumLifetime": {"Unit": "DAYS", "Duration": 30},
               "UsesConfiguredDefault": false, "AllowSelfRotation": false})
    );
    assert_eq!(call(server.get(&tenant_policy(&tenant)), 200).await, shown);

    for kind in KINDS {
        let created = server
            .create_client(&tenant, kind, json!({"Name": "app"}))
            .await;
        // The policy says two years; the maximum lifetime caps it at 30 days.
        assert_days_after_creation(&first_secret(&server, &tenant, kind, &created).await, 30);
        let client = created["Client"]["Id"].as_str().unwrap();
        let secrets = secrets_path(&tenant, kind, client);

        let beyond = (Utc::now() + Duration::days(31)).to_rfc3339();
        let req = server.post(&secrets).json(&json!({"Expiration": beyond}));
        let refused = expect_invalid(req, "Expiration").await;
        // The latest allowed date is named as RFC 3339, like every date-time in a message.
        let reason = refused["Reason"].as_str().unwrap();
        let latest = reason
            .split_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("a date in parentheses: {reason}"));
        DateTime::parse_from_rfc3339(latest).unwrap_or_else(|e| panic!("{latest}: {e}"));
        let req = server.post(&secrets).json(&json!({"Expires": false}));
        expect_invalid(req, "Expires").await;
        let one = format!("{secrets}/{}", created["Id"]);
        let req = server
            .post(&format!("{one}/Renew"))
            .json(&json!({"Expiration": beyond}));
        expect_invalid(req, "Expiration").await;
        let req = server
            .post(&format!("{one}/Renew"))
            .json(&json!({"Expires": false}));
        expect_invalid(req, "Expires").await;

        let within = (Utc::now() + Duration::days(29)).to_rfc3339();
        let ok = add_secret(&server, &secrets, json!({"Expiration": within})).await;
        assert_within(time(&ok["Expiration"]), time(&json!(within)), 0);

        // A client whose own policy is NONE still gets the maximum lifetime.
        let policy = client_policy(&tenant, kind, client);
        let none = json!({"UseTenantRules": false, "Unit": "NONE"});
        let shown = call(server.put(&policy).json(&none), 200).await;
        assert_eq!(
            (
                &shown["Unit"],
                &shown["EffectiveUnit"],
                &shown["EffectiveDuration"],
                &shown["EffectiveCapped"]
            ),
            (&json!("NONE"), &json!("DAYS"), &json!(30), &json!(true)),
            "the rule that applies is reported, capped: {shown}"
        );
        let capped = add_secret(&server, &secrets, json!({})).await;
        assert_days_after_creation(&capped, 30);
        // So does a renewal.
        let renewed = call(server.post(&format!("{one}/Renew")).json(&json!({})), 200).await;
        assert_within(
            time(&renewed["Expiration"]),
            Utc::now() + Duration::days(30),
            30,
        );
    }

    // A new client's first secret obeys it too, named by the creation request's fields.
    let clients = format!("/api/v1/Tenants/{tenant}/{}", KINDS[1]);
    let body = json!({"Name": "x", "SecretExpires": false});
    expect_invalid(server.post(&clients).json(&body), "SecretExpires").await;
    let beyond = (Utc::now() + Duration::days(31)).to_rfc3339();
    let body = json!({"Name": "x", "SecretExpirationDate": beyond});
    expect_invalid(server.post(&clients).json(&body), "SecretExpirationDate").await;

    // Removing the maximum lifetime allows never-expiring secrets again.
    set_tenant(
        &server,
        &tenant,
        json!({"Unit": "YEARS", "Duration": 2, "MaximumLifetime": null}),
    )
    .await;
    let created = server
        .create_client(
            &tenant,
            KINDS[0],
            json!({"Name": "free", "SecretExpires": false}),
        )
        .await;
    assert_eq!(
        (&created["Expires"], &created["Expiration"]),
        (&json!(false), &Value::Null)
    );
}

async fn bad_policies_are_refused_naming_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let path = tenant_policy(&tenant);
    let put = |body: Value| server.put(&path).json(&body);

    for unit in ["FORTNIGHTS", "DAYSS", "NON", "", "1 DAYS"] {
        expect_invalid(put(json!({"Unit": unit, "Duration": 1})), "Unit").await;
    }
    expect_invalid(put(json!({"Duration": 1})), "Unit").await;
    expect_invalid(put(json!({"Unit": "DAYS", "Duration": 0})), "Duration").await;
    expect_invalid(put(json!({"Unit": "YEARS", "Duration": 101})), "Duration").await;
    expect_invalid(put(json!({"Unit": "DAYS", "Duration": 36501})), "Duration").await;
    expect_invalid(put(json!({"Unit": "MONTHS"})), "Duration").await;
    let none_max = json!({"Unit": "DAYS", "Duration": 1, "MaximumLifetime": {"Unit": "NONE"}});
    expect_invalid(put(none_max), "MaximumLifetime").await;
    let bad_max = json!({"Unit": "DAYS", "Duration": 1,
                         "MaximumLifetime": {"Unit": "DAYS", "Duration": 0}});
    expect_invalid(put(bad_max), "MaximumLifetime.Duration").await;
    // Wrong JSON types.
    for body in [
        json!({"Unit": "DAYS", "Duration": "seven"}),
        json!({"Unit": 7, "Duration": 7}),
        json!({"Unit": "DAYS", "Duration": -1}),
        json!({"Unit": "DAYS", "Duration": 1.5}),
        json!(["DAYS", 7]),
    ] {
        expect_error(put(body), 400, "InvalidInput").await;
    }
    for max in [
        json!(30),
        json!({"Unit": "DAYS", "Duration": "30"}),
        json!({"unit": "DAYS", "UNIT": "DAYS"}),
    ] {
        let body = json!({"Unit": "DAYS", "Duration": 1, "MaximumLifetime": max});
        let got = expect_error(put(body), 400, "InvalidInput").await;
        assert_eq!(got["Field"], "MaximumLifetime", "{got}");
    }
    // Nothing was stored.
    let shown = call(server.get(&path), 200).await;
    assert_eq!(shown["UsesConfiguredDefault"], true, "{shown}");
    // Field names and units are matched case-insensitively.
    let lower = json!({"unit": "weeks", "duration": 6, "maximumLifetime": {"unit": "Years", "duration": 1}});
    assert_eq!(
        call(put(lower), 200).await,
        json!({"Unit": "WEEKS", "Duration": 6,
               "MaximumLifetime": {"Unit": "YEARS", "Duration": 1},
               "UsesConfiguredDefault": false, "AllowSelfRotation": false})
    );

    let created = server
        .create_client(&tenant, KINDS[1], json!({"Name": "app"}))
        .await;
    let client = created["Client"]["Id"].as_str().unwrap();
    let cpath = client_policy(&tenant, KINDS[1], client);
    let cput = |body: Value| server.put(&cpath).json(&body);
    let own = |unit: Value, duration: Value| json!({"UseTenantRules": false, "Unit": unit, "Duration": duration});
    expect_invalid(cput(own(json!("HOURS"), json!(1))), "Unit").await;
    expect_invalid(
        cput(json!({"UseTenantRules": false, "Duration": 3})),
        "Unit",
    )
    .await;
    expect_invalid(cput(own(json!("DAYS"), json!(0))), "Duration").await;
    expect_invalid(cput(own(json!("YEARS"), json!(101))), "Duration").await;
    expect_invalid(cput(own(json!("WEEKS"), Value::Null)), "Duration").await;
    expect_error(cput(json!({"UseTenantRules": "no"})), 400, "InvalidInput").await;
    expect_error(cput(own(json!("DAYS"), json!("7"))), 400, "InvalidInput").await;
    let shown = call(server.get(&cpath), 200).await;
    assert_eq!(shown["UseTenantRules"], true, "{shown}");
}

async fn policies_are_read_by_members_and_auditors_and_written_by_administrators(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let created = server
        .create_client(&tenant, KINDS[0], json!({"Name": "app"}))
        .await;
    let client = created["Client"]["Id"].as_str().unwrap();
    let tpath = tenant_policy(&tenant);
    let cpath = client_policy(&tenant, KINDS[0], client);
    let tbody = json!({"Unit": "DAYS", "Duration": 10});
    let cbody = json!({"UseTenantRules": false, "Unit": "DAYS", "Duration": 5});

    let member = token_with(&server, &tenant, "tenant-member").await;
    let auditor = token_with(&server, &tenant, "tenant-auditor").await;
    let admin = token_with(&server, &tenant, "tenant-administrator").await;
    for token in [&member, &auditor] {
        call(as_caller(&server, Method::GET, &tpath, token), 200).await;
        call(as_caller(&server, Method::GET, &cpath, token), 200).await;
        let put = as_caller(&server, Method::PUT, &tpath, token).json(&tbody);
        expect_error(put, 403, "Forbidden").await;
        let put = as_caller(&server, Method::PUT, &cpath, token).json(&cbody);
        expect_error(put, 403, "Forbidden").await;
    }
    assert_eq!(
        call(server.get(&tpath), 200).await["UsesConfiguredDefault"],
        true
    );
    assert_eq!(call(server.get(&cpath), 200).await["UseTenantRules"], true);

    let put = as_caller(&server, Method::PUT, &tpath, &admin).json(&tbody);
    assert_eq!(call(put, 200).await["Duration"], 10);
    let put = as_caller(&server, Method::PUT, &cpath, &admin).json(&cbody);
    assert_eq!(call(put, 200).await["EffectiveDuration"], 5);

    // Another tenant's administrator: 403 on this tenant's policies.
    let other = server.create_tenant().await;
    let stranger = token_with(&server, &other, "tenant-administrator").await;
    let get = as_caller(&server, Method::GET, &tpath, &stranger);
    expect_error(get, 403, "Forbidden").await;
    let put = as_caller(&server, Method::PUT, &cpath, &stranger).json(&cbody);
    expect_error(put, 403, "Forbidden").await;
    // No bearer at all: 401.
    let anonymous = server.http.get(server.url(&tpath));
    expect_error(anonymous, 401, "Unauthorized").await;

    // Unknown tenant, client, or the client under the other kind: 404.
    let missing = "00000000-0000-0000-0000-000000000000";
    expect_error(server.get(&tenant_policy(missing)), 404, "NotFound").await;
    let put = server.put(&tenant_policy(missing)).json(&tbody);
    expect_error(put, 404, "NotFound").await;
    for path in [
        client_policy(&tenant, KINDS[0], "nobody"),
        client_policy(&tenant, KINDS[1], client),
        client_policy(missing, KINDS[0], client),
    ] {
        expect_error(server.get(&path), 404, "NotFound").await;
        expect_error(server.put(&path).json(&cbody), 404, "NotFound").await;
    }
}

/// A tenant without a policy of its own follows `secrets.defaultExpiry`, whatever it is.
async fn tenants_follow_the_configured_default(backend: Backend) {
    for (configured, want) in [
        ("30 days", json!({"Unit": "DAYS", "Duration": 30})),
        ("NONE", json!({"Unit": "NONE", "Duration": null})),
    ] {
        let options = ServerOptions {
            env: vec![(
                "LATCHKEY_SECRETS__DEFAULTEXPIRY".to_owned(),
                configured.to_owned(),
            )],
            ..ServerOptions::default()
        };
        let server = TestServer::start_with(backend, options).await;
        let tenant = server.create_tenant().await;
        let mut want = want;
        want["MaximumLifetime"] = Value::Null;
        want["UsesConfiguredDefault"] = json!(true);
        want["AllowSelfRotation"] = json!(false);
        assert_eq!(call(server.get(&tenant_policy(&tenant)), 200).await, want);
        let created = server
            .create_client(&tenant, KINDS[0], json!({"Name": "app"}))
            .await;
        let client = created["Client"]["Id"].as_str().unwrap();
        let shown = call(server.get(&client_policy(&tenant, KINDS[0], client)), 200).await;
        assert_eq!(
            (&shown["EffectiveUnit"], &shown["EffectiveDuration"]),
            (&want["Unit"], &want["Duration"])
        );
        let first = first_secret(&server, &tenant, KINDS[0], &created).await;
        if configured == "NONE" {
            assert_eq!(
                (&first["Expires"], &first["Expiration"]),
                (&json!(false), &Value::Null)
            );
        } else {
            assert_days_after_creation(&first, 30);
        }
    }
}

both_backends!(
    tenants_follow_the_configured_default,
    tenant_policy_defaults_to_the_configured_year_and_drives_new_secrets,
    client_policy_wins_and_none_means_never,
    renew_follows_the_current_policy_and_changes_leave_secrets_alone,
    maximum_lifetime_caps_policies_and_refuses_longer_secrets,
    bad_policies_are_refused_naming_the_field,
    policies_are_read_by_members_and_auditors_and_written_by_administrators,
);
