//! Configuration as the running server applies it: the YAML file, `LATCHKEY_*`
//! environment overrides that beat it, start-up refused with the key named on
//! a bad value, and the limits and policies it sets (`applications.secretsMax`,
//! also under concurrent adds; `tenants.clientsMax`; `secrets.defaultExpiry`;
//! `secrets.maxGracePeriod`).

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{
    KINDS, add_secret, assert_error_shape, assert_near, call, client_of, count, days_from_now,
    exchange, expect_error, expect_invalid, secrets_path, time,
};

fn with_yaml(yaml: &str) -> ServerOptions {
    ServerOptions {
        config_yaml: Some(yaml.to_owned()),
        ..ServerOptions::default()
    }
}

fn with_env(mut opts: ServerOptions, key: &str, value: &str) -> ServerOptions {
    opts.env.push((key.to_owned(), value.to_owned()));
    opts
}

/// Start-up fails with exit code 2, before listening, naming `key`.
async fn assert_refused(opts: ServerOptions, key: &str) {
    let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(output.contains(key), "the message names {key}: {output}");
    assert!(!output.contains("Latchkey listening"), "{output}");
}

/// Start-up checks read no database: they run once, on SQLite.
mod sqlite_start_up {
    use super::*;

    #[tokio::test]
    async fn non_numeric_env_secrets_max_stops_start_up() {
        let opts = with_env(
            ServerOptions::default(),
            "LATCHKEY_APPLICATIONS__SECRETSMAX",
            "abc",
        );
        assert_refused(opts, "applications.secretsMax").await;
    }

    #[tokio::test]
    async fn zero_secrets_max_in_yaml_stops_start_up() {
        assert_refused(
            with_yaml("applications:\n  secretsMax: 0\n"),
            "applications.secretsMax",
        )
        .await;
    }

    #[tokio::test]
    async fn unknown_expiry_unit_in_yaml_stops_start_up() {
        let yaml = "secrets:\n  defaultExpiry: \"7 FORTNIGHTS\"\n";
        assert_refused(with_yaml(yaml), "secrets.defaultExpiry").await;
    }

    #[tokio::test]
    async fn bad_env_default_expiry_stops_start_up_even_over_a_good_file() {
        let opts = with_yaml("secrets:\n  defaultExpiry: \"30 DAYS\"\n");
        assert_refused(
            with_env(opts, "LATCHKEY_SECRETS__DEFAULTEXPIRY", "soon"),
            "secrets.defaultExpiry",
        )
        .await;
    }

    const EMAIL_YAML: &str =
        "notifications:\n  email:\n    host: smtp.example.com\n    from: latchkey@example.com\n";

    #[tokio::test]
    async fn unknown_email_tls_mode_in_yaml_stops_start_up() {
        let yaml = format!("{EMAIL_YAML}    tls: ssl\n");
        assert_refused(with_yaml(&yaml), "notifications.email.tls").await;
    }

    #[tokio::test]
    async fn email_username_without_password_stops_start_up() {
        let opts = with_env(
            with_yaml(EMAIL_YAML),
            "LATCHKEY_NOTIFICATIONS__EMAIL__USERNAME",
            "mailer",
        );
        assert_refused(opts, "notifications.email.password").await;
    }

    #[tokio::test]
    async fn non_numeric_env_email_port_stops_start_up() {
        let opts = with_env(
            with_yaml(EMAIL_YAML),
            "LATCHKEY_NOTIFICATIONS__EMAIL__PORT",
            "smtp",
        );
        assert_refused(opts, "notifications.email.port").await;
    }

    #[tokio::test]
    async fn email_from_the_environment_alone_starts_and_never_logs_the_password() {
        let mut opts = ServerOptions::default();
        for (key, value) in [
            ("LATCHKEY_NOTIFICATIONS__EMAIL__HOST", "smtp.example.com"),
            (
                "LATCHKEY_NOTIFICATIONS__EMAIL__FROM",
                "Latchkey <lk@example.com>",
            ),
            ("LATCHKEY_NOTIFICATIONS__EMAIL__TLS", "tls"),
            ("LATCHKEY_NOTIFICATIONS__EMAIL__TIMEOUTSECONDS", "5"),
            ("LATCHKEY_NOTIFICATIONS__EMAIL__USERNAME", "mailer"),
            // figment would parse this as an array; the password is read verbatim.
            ("LATCHKEY_NOTIFICATIONS__EMAIL__PASSWORD", "[pw-7c1e9a"),
        ] {
            opts = with_env(opts, key, value);
        }
        let server = TestServer::start_with(Backend::Sqlite, opts).await;
        let res = server.get("/readyz").send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(!server.logs().contains("pw-7c1e9a"));
    }

    #[tokio::test]
    async fn non_numeric_clients_max_in_yaml_stops_start_up() {
        assert_refused(
            with_yaml("tenants:\n  clientsMax: many\n"),
            "tenants.clientsMax",
        )
        .await;
    }
}

async fn secrets_max_from_yaml_limits_adds(backend: Backend) {
    let server =
        TestServer::start_with(backend, with_yaml("applications:\n  secretsMax: 2\n")).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        add_secret(&server, &path, json!({})).await;
        expect_error(server.post(&path).json(&json!({})), 400, "LimitReached").await;
        assert_eq!(count(server.head(&path)).await, 2);
    }
}

async fn env_override_beats_the_yaml_file(backend: Backend) {
    let opts = with_env(
        with_yaml("applications:\n  secretsMax: 2\n"),
        "LATCHKEY_APPLICATIONS__SECRETSMAX",
        "3",
    );
    let server = TestServer::start_with(backend, opts).await;
    let (tenant, client, _) = client_of(&server, KINDS[1]).await;
    let path = secrets_path(&tenant, KINDS[1], &client);
    add_secret(&server, &path, json!({})).await;
    add_secret(&server, &path, json!({})).await;
    expect_error(server.post(&path).json(&json!({})), 400, "LimitReached").await;
    assert_eq!(count(server.head(&path)).await, 3);
}

async fn clients_max_limits_clients_per_tenant_across_kinds(backend: Backend) {
    let server = TestServer::start_with(backend, with_yaml("tenants:\n  clientsMax: 2\n")).await;
    let tenant = server.create_tenant().await;
    server
        .create_client(&tenant, KINDS[0], json!({"Id": "a", "Name": "n"}))
        .await;
    server
        .create_client(&tenant, KINDS[1], json!({"Id": "b", "Name": "n"}))
        .await;
    for kind in KINDS {
        let clients = format!("/api/v1/Tenants/{tenant}/{kind}");
        let third = server.post(&clients).json(&json!({"Name": "third"}));
        expect_error(third, 400, "LimitReached").await;
        assert_eq!(
            count(server.head(&clients)).await,
            1,
            "the refused client was not created"
        );
    }
    let other = server.create_tenant().await;
    server
        .create_client(&other, KINDS[0], json!({"Name": "n"}))
        .await;
    call(
        server.delete(&format!("/api/v1/Tenants/{tenant}/{}/a", KINDS[0])),
        204,
    )
    .await;
    server
        .create_client(&tenant, KINDS[1], json!({"Name": "replacement"}))
        .await;
}

async fn env_clients_max_applies_without_a_file(backend: Backend) {
    let opts = with_env(
        ServerOptions::default(),
        "LATCHKEY_TENANTS__CLIENTSMAX",
        "1",
    );
    let server = TestServer::start_with(backend, opts).await;
    let tenant = server.create_tenant().await;
    server
        .create_client(&tenant, KINDS[1], json!({"Name": "n"}))
        .await;
    let clients = format!("/api/v1/Tenants/{tenant}/{}", KINDS[0]);
    expect_error(
        server.post(&clients).json(&json!({"Name": "n"})),
        400,
        "LimitReached",
    )
    .await;
}

async fn default_expiry_of_30_days_applies_to_every_new_value(backend: Backend) {
    let server = TestServer::start_with(
        backend,
        with_yaml("secrets:\n  defaultExpiry: \"30 DAYS\"\n"),
    )
    .await;
    let in_30_days = || Utc::now() + Duration::days(30);
    for kind in KINDS {
        let (tenant, client, created) = client_of(&server, kind).await;
        assert_eq!(created["Expires"], true);
        assert_near(&created["Expiration"], in_30_days());
        let path = secrets_path(&tenant, kind, &client);
        for body in [json!({}), json!({"Expires": true})] {
            assert_near(
                &add_secret(&server, &path, body).await["Expiration"],
                in_30_days(),
            );
        }
        let renewed = call(
            server.post(&format!("{path}/1/Renew")).json(&json!({})),
            200,
        )
        .await;
        assert_near(&renewed["Expiration"], in_30_days());
    }
}

async fn env_default_expiry_beats_the_yaml_file(backend: Backend) {
    let opts = with_yaml("secrets:\n  defaultExpiry: \"30 DAYS\"\n");
    let server = TestServer::start_with(
        backend,
        with_env(opts, "LATCHKEY_SECRETS__DEFAULTEXPIRY", "2 WEEKS"),
    )
    .await;
    let (_, _, created) = client_of(&server, KINDS[0]).await;
    assert_near(&created["Expiration"], Utc::now() + Duration::days(14));
}

async fn default_expiry_none_never_expires_unless_asked(backend: Backend) {
    let server =
        TestServer::start_with(backend, with_yaml("secrets:\n  defaultExpiry: NONE\n")).await;
    for kind in KINDS {
        let (tenant, client, created) = client_of(&server, kind).await;
        assert_eq!(
            (&created["Expires"], &created["Expiration"]),
            (&json!(false), &Value::Null)
        );
        let path = secrets_path(&tenant, kind, &client);
        for body in [json!({}), json!({"Expires": null, "Expiration": null})] {
            let added = add_secret(&server, &path, body).await;
            assert_eq!(
                (&added["Expires"], &added["Expiration"]),
                (&json!(false), &Value::Null)
            );
        }
        expect_error(
            server.post(&path).json(&json!({"Expires": true})),
            400,
            "InvalidInput",
        )
        .await;
        let (at, wire) = days_from_now(9);
        let dated = add_secret(&server, &path, json!({"Expires": true, "Expiration": wire})).await;
        assert_eq!(time(&dated["Expiration"]), at);
        assert_eq!(count(server.head(&path)).await, 4);
    }
}

async fn max_grace_period_is_configurable(backend: Backend) {
    let server =
        TestServer::start_with(backend, with_yaml("secrets:\n  maxGracePeriod: 60\n")).await;
    let (tenant, client, _) = client_of(&server, KINDS[0]).await;
    let renew = format!("{}/1/Renew", secrets_path(&tenant, KINDS[0], &client));
    let over = json!({"GracePeriodSeconds": 61});
    expect_invalid(server.post(&renew).json(&over), "GracePeriodSeconds").await;
    let renewed = call(
        server.post(&renew).json(&json!({"GracePeriodSeconds": 60})),
        200,
    )
    .await;
    assert_near(&renewed["GraceUntil"], Utc::now() + Duration::seconds(60));
}

/// With the default limit of 10 and 9 secrets, 24 simultaneous adds give one 201.
async fn secrets_max_holds_under_concurrent_adds(backend: Backend) {
    let server = TestServer::start(backend).await;
    for kind in KINDS {
        let (tenant, client, _) = client_of(&server, kind).await;
        let path = secrets_path(&tenant, kind, &client);
        for _ in 0..8 {
            add_secret(&server, &path, json!({})).await;
        }
        let racers: Vec<_> = (0..24)
            .map(|i| json!({"Description": format!("racer {i}")}))
            .map(|body| tokio::spawn(exchange(server.post(&path).json(&body))))
            .collect();
        let mut statuses = Vec::new();
        for racer in racers {
            let (status, headers, body) = racer.await.unwrap();
            if status != 201 {
                assert_error_shape(status, &headers, &body);
                assert_eq!(
                    (status, &body["Error"]),
                    (400, &json!("LimitReached")),
                    "{body}"
                );
            }
            statuses.push(status);
        }
        assert_eq!(
            statuses.iter().filter(|&&s| s == 201).count(),
            1,
            "{statuses:?}"
        );
        let list = call(server.get(&path), 200).await;
        assert_eq!(list.as_array().unwrap().len(), 10);
        assert_eq!(count(server.head(&path)).await, 10);
        // Revoked secrets do not count: deleting one makes room for exactly one.
        call(server.delete(&format!("{path}/3")), 204).await;
        add_secret(&server, &path, json!({})).await;
        expect_error(server.post(&path).json(&json!({})), 400, "LimitReached").await;
        assert_eq!(count(server.head(&path)).await, 10);
    }
}

both_backends!(
    secrets_max_from_yaml_limits_adds,
    env_override_beats_the_yaml_file,
    clients_max_limits_clients_per_tenant_across_kinds,
    env_clients_max_applies_without_a_file,
    default_expiry_of_30_days_applies_to_every_new_value,
    env_default_expiry_beats_the_yaml_file,
    default_expiry_none_never_expires_unless_asked,
    max_grace_period_is_configurable,
    secrets_max_holds_under_concurrent_adds,
);
