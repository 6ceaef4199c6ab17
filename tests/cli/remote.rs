//! The remote commands against a running server: a client's whole life from the
//! command line, the value alone on stdout, JSON output, filters, lookup from
//! stdin, exit codes and completions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::harness::{Backend, TestServer};
use crate::{cli, cli_with_stdin, latchkey_in};

/// The status of a `client_credentials` token request with `secret`.
async fn token_status(server: &TestServer, tenant: &str, client: &str, secret: &str) -> u16 {
    let basic = STANDARD.encode(format!("{client}:{secret}"));
    server
        .http
        .post(server.url(&format!("/identity/{tenant}/connect/token")))
        .header("Authorization", format!("Basic {basic}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The new value a command printed: stdout is exactly the value and a newline.
fn value_of(stdout: &str) -> String {
    let value = stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{stdout:?}"));
    assert!(
        value.starts_with("lkcs_") && value.len() == 54 && !value.contains(char::is_whitespace),
        "stdout is not exactly one value: {stdout:?}"
    );
    value.to_owned()
}

async fn a_client_s_whole_life(backend: Backend) {
    let server = TestServer::start(backend).await;

    // Tenants: create prints the id alone; list shows it.
    let run = cli(&server, &["tenants", "create", "Acme Corp"]).await;
    let tenant = run.ok().trim().to_owned();
    assert!(!tenant.is_empty() && !tenant.contains('\n'), "{run:?}");
    let list = cli(&server, &["tenants", "list"]).await;
    assert!(
        list.ok().starts_with("ID"),
        "a table with a heading: {list:?}"
    );
    assert!(list.stdout.contains(&tenant) && list.stdout.contains("Acme Corp"));
    let tenants = cli(&server, &["tenants", "list", "--output", "json"])
        .await
        .json();
    assert!(
        tenants
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["Id"] == tenant.as_str())
    );

    // Rename: the new name is shown; another tenant's name is a conflict (exit 5).
    let renamed = cli(&server, &["tenants", "rename", &tenant, "Acme EU"]).await;
    assert!(renamed.ok().contains("Acme EU"), "{renamed:?}");
    cli(&server, &["tenants", "create", "Other"]).await.ok();
    let taken = cli(&server, &["tenants", "rename", &tenant, "Other"]).await;
    assert_eq!(taken.code, 5, "a taken name: {taken:?}");
    let shown = cli(&server, &["tenants", "list", "--output", "json"])
        .await
        .json();
    let ours = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["Id"] == tenant.as_str());
    assert_eq!(ours.unwrap()["Name"], "Acme EU");

    // Clients: create prints the first secret's value alone, and it works.
    let t = ["--tenant", tenant.as_str()];
    let run = cli(
        &server,
        &[
            &["clients", "create"],
            &t[..],
            &["billing", "--name", "Billing"],
        ]
        .concat(),
    )
    .await;
    let first = value_of(run.ok());
    assert!(run.stderr.contains("printed once"), "{run:?}");
    assert_eq!(token_status(&server, &tenant, "billing", &first).await, 200);
    let show = cli(
        &server,
        &[&["clients", "show"], &t[..], &["billing"]].concat(),
    )
    .await;
    assert!(show.ok().contains("Billing"), "{show:?}");
    assert!(
        !show.stdout.contains(&first),
        "a value is printed once only"
    );
    let shown = cli(
        &server,
        &[&["clients", "show", "-o", "json"], &t[..], &["billing"]].concat(),
    )
    .await
    .json();
    assert_eq!(shown["Id"], "billing");
    assert_eq!(shown["Enabled"], true);
    let list = cli(&server, &[&["clients", "list"], &t[..]].concat()).await;
    assert!(list.ok().contains("billing"), "{list:?}");

    // Disable: the client gets no token; enable: it does again.
    cli(
        &server,
        &[&["clients", "disable"], &t[..], &["billing"]].concat(),
    )
    .await
    .ok();
    let shown = cli(
        &server,
        &[&["clients", "show", "-o", "json"], &t[..], &["billing"]].concat(),
    )
    .await
    .json();
    assert_eq!(shown["Enabled"], false);
    assert_ne!(token_status(&server, &tenant, "billing", &first).await, 200);
    cli(
        &server,
        &[&["clients", "enable"], &t[..], &["billing"]].concat(),
    )
    .await
    .ok();
    assert_eq!(token_status(&server, &tenant, "billing", &first).await, 200);

    // Secrets: add prints exactly the value; `$(latchkey secrets add …)` captures it.
    let c = [&t[..], &["billing"]].concat();
    let run = cli(
        &server,
        &[&["secrets", "add", "--description", "deploy 2027"], &c[..]].concat(),
    )
    .await;
    let second = value_of(run.ok());
    assert_eq!(
        token_status(&server, &tenant, "billing", &second).await,
        200
    );
    let secrets = cli(
        &server,
        &[&["secrets", "list", "-o", "json"], &c[..]].concat(),
    )
    .await
    .json();
    let secrets = secrets.as_array().unwrap();
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    let listed = cli(&server, &[&["secrets", "list"], &c[..]].concat()).await;
    assert!(listed.ok().contains("deploy 2027"), "{listed:?}");
    assert!(!listed.stdout.contains(&second) && !listed.stderr.contains(&second));

    // Renew secret 2 with a grace period: the new value works, and so does the old one.
    let run = cli(
        &server,
        &[&["secrets", "renew", "--grace", "3600"], &c[..], &["2"]].concat(),
    )
    .await;
    let renewed = value_of(run.ok());
    assert_ne!(renewed, second);
    assert_eq!(
        token_status(&server, &tenant, "billing", &renewed).await,
        200
    );
    assert_eq!(
        token_status(&server, &tenant, "billing", &second).await,
        200
    );
    // End the grace: the old value stops.
    cli(
        &server,
        &[&["secrets", "end-grace"], &c[..], &["2"]].concat(),
    )
    .await
    .ok();
    assert_ne!(
        token_status(&server, &tenant, "billing", &second).await,
        200
    );
    assert_eq!(
        token_status(&server, &tenant, "billing", &renewed).await,
        200
    );

    // Lookup reads the value from stdin and names its client and secret.
    let found = cli_with_stdin(
        &server,
        &["secrets", "lookup", "-o", "json"],
        &format!("{renewed}\n"),
    )
    .await;
    let found = found.json();
    assert_eq!(found["Found"], true);
    assert_eq!(found["ClientId"], "billing");
    assert_eq!(found["Id"], 2);
    let table = cli_with_stdin(
        &server,
        &[&["secrets", "lookup"], &t[..]].concat(),
        &renewed,
    )
    .await;
    assert!(table.ok().contains("billing"), "{table:?}");

    // Revoke the first secret: refused at once.
    cli(&server, &[&["secrets", "revoke"], &c[..], &["1"]].concat())
        .await
        .ok();
    assert_ne!(token_status(&server, &tenant, "billing", &first).await, 200);
    let unknown = cli_with_stdin(&server, &["secrets", "lookup"], &first).await;
    assert_eq!(
        unknown.code, 3,
        "a revoked value is found nowhere: {unknown:?}"
    );

    // The inventory with a filter: the one secret expiring within 10 days.
    let soon = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let args = [
        &["clients", "create"],
        &t[..],
        &["unused", "--expiration", soon.as_str()],
    ]
    .concat();
    value_of(cli(&server, &args).await.ok());
    let expiring = cli(
        &server,
        &[
            &["inventory", "--expiring-within-days", "10", "-o", "json"],
            &t[..],
        ]
        .concat(),
    )
    .await
    .json();
    let ids: Vec<&Value> = expiring
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["ClientId"])
        .collect();
    assert_eq!(ids, vec!["unused"], "{expiring}");
    let all = cli(&server, &[&["inventory"], &t[..]].concat()).await;
    assert!(
        all.ok().contains("billing") && all.stdout.contains("unused"),
        "{all:?}"
    );

    // The audit trail, filtered by action.
    let revokes = cli(
        &server,
        &[
            &["audit", "--action", "secret.revoke", "-o", "json"],
            &t[..],
        ]
        .concat(),
    )
    .await
    .json();
    let revokes = revokes.as_array().unwrap();
    assert_eq!(revokes.len(), 1, "{revokes:?}");
    assert_eq!(revokes[0]["ClientId"], "billing");
    assert_eq!(revokes[0]["SecretId"], 1);
    let table = cli(
        &server,
        &[&["audit", "--client", "billing"], &t[..]].concat(),
    )
    .await;
    assert!(table.ok().contains("secret.renew"), "{table:?}");
    assert!(
        !table.stdout.contains("unused"),
        "filtered to billing: {table:?}"
    );

    // Delete: the client is gone.
    cli(
        &server,
        &[&["clients", "delete"], &t[..], &["unused"]].concat(),
    )
    .await
    .ok();
    let gone = cli(
        &server,
        &[&["clients", "show"], &t[..], &["unused"]].concat(),
    )
    .await;
    assert_eq!(gone.code, 3, "{gone:?}");
}

crate::both_backends!(a_client_s_whole_life);

#[tokio::test]
async fn exit_codes_tell_not_found_refused_and_bad_input_apart() {
    let server = TestServer::start(Backend::Sqlite).await;
    let tenant = server.create_tenant().await;
    let t = ["--tenant", tenant.as_str()];

    let missing = cli(
        &server,
        &[&["clients", "show"], &t[..], &["nobody"]].concat(),
    )
    .await;
    assert_eq!(missing.code, 3, "not found: {missing:?}");
    assert!(
        missing.stdout.is_empty() && missing.stderr.contains("latchkey:"),
        "{missing:?}"
    );
    let missing = cli(
        &server,
        &[&["secrets", "add"], &t[..], &["nobody"]].concat(),
    )
    .await;
    assert_eq!(missing.code, 3, "adding to an unknown client: {missing:?}");
    assert!(missing.stdout.is_empty(), "no value on stdout: {missing:?}");

    let dir = tempfile::tempdir().unwrap();
    let wrong = [
        ("LATCHKEY_URL", server.base_url.as_str()),
        ("LATCHKEY_TOKEN", "lk-not-the-token-at-all"),
    ];
    let refused = latchkey_in(dir.path(), &wrong, &["tenants", "list"], "").await;
    assert_eq!(refused.code, 4, "wrong token: {refused:?}");
    let no_token = [("LATCHKEY_URL", server.base_url.as_str())];
    let refused = latchkey_in(dir.path(), &no_token, &["tenants", "list"], "").await;
    assert_eq!(refused.code, 4, "no token: {refused:?}");

    let bad = cli(
        &server,
        &[&["audit", "--from", "yesterday"], &t[..]].concat(),
    )
    .await;
    assert_eq!(bad.code, 2, "bad date (checked by the API): {bad:?}");
    assert!(bad.stderr.contains("from"), "names the field: {bad:?}");
    let bad = cli(
        &server,
        &[
            &["secrets", "add", "--expiration", "next week"],
            &t[..],
            &["x"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(bad.code, 2, "bad date (checked by the parser): {bad:?}");
    let bad = cli(
        &server,
        &[&["inventory", "--unused-for-days", "-3"], &t[..]].concat(),
    )
    .await;
    assert_eq!(bad.code, 2, "{bad:?}");
    let no_value = cli_with_stdin(&server, &["secrets", "lookup"], "").await;
    assert_eq!(
        no_value.code, 2,
        "lookup without a value on stdin: {no_value:?}"
    );

    let run = cli(
        &server,
        &[&["clients", "create"], &t[..], &["dup"]].concat(),
    )
    .await;
    run.ok();
    let conflict = cli(
        &server,
        &[&["clients", "create"], &t[..], &["dup"]].concat(),
    )
    .await;
    assert_eq!(conflict.code, 5, "a duplicate: {conflict:?}");
    assert!(conflict.stdout.is_empty(), "{conflict:?}");

    // With --output json, stdout is the API's answer, value included, and nothing else.
    let added = cli(
        &server,
        &[&["secrets", "add", "-o", "json"], &t[..], &["dup"]].concat(),
    )
    .await;
    let body = added.json();
    assert_eq!(body["Id"], 2);
    let value = body["Secret"].as_str().unwrap();
    assert!(value.starts_with("lkcs_"), "{body}");
    assert!(!added.stderr.contains(value), "{added:?}");
}

#[tokio::test]
async fn completions_are_shell_scripts_naming_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = latchkey_in(dir.path(), &[], &["completions", shell], "").await;
        let script = run.ok();
        assert!(script.len() > 1000, "{shell}: {script}");
        for word in ["secrets", "end-grace", "inventory", "reset-password"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let run = latchkey_in(dir.path(), &[], &["completions", "tcsh"], "").await;
    assert_eq!(run.code, 2, "an unknown shell is a usage error: {run:?}");
}
