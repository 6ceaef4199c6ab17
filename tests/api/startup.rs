//! Start-up and the messages around it (issue 15, items 17 to 19): `--listen` with a
//! host name or a bare port; the banner naming the configuration file and whether
//! email is on; recipients saved while email is off answered with a `Warning`; log
//! lines without colour codes on a pipe and with rounded durations; errors that
//! name their cause (the PostgreSQL server, the SQLite file, the configuration key
//! without nested backticks); a failed start that removes the SQLite files it
//! created; the token endpoint telling a JSON body to be a form; unknown routes
//! said plainly; discovery metadata is checked in `oauth.rs`.

use std::net::TcpListener;
use std::path::Path;

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::harness::*;
use crate::lifecycle::{call, exchange, expect_error};
use crate::oauth::{basic, cc_client, options};

fn with_env(mut opts: ServerOptions, key: &str, value: &str) -> ServerOptions {
    opts.env.push((key.to_owned(), value.to_owned()));
    opts
}

/// A port some other socket holds for as long as the listener lives.
fn busy_port() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = listener.local_addr().expect("its address").port();
    (listener, port)
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// `ServerOptions` for a server on the SQLite file `db` (the harness's directory
/// goes with the server; this one stays for the test to look at).
fn on_sqlite_file(db: &Path) -> ServerOptions {
    ServerOptions {
        database_url: Some(format!("sqlite://{}", db.display())),
        ..ServerOptions::default()
    }
}

mod sqlite_start_up {
    use super::*;

    #[tokio::test]
    async fn listen_takes_localhost_and_a_bare_port() {
        for (listen, bound_to) in [("localhost:0", "127.0.0.1"), (":0", "0.0.0.0")] {
            let opts = ServerOptions {
                extra_args: vec!["--listen".into(), listen.into()],
                ..ServerOptions::default()
            };
            let server = TestServer::start_with(Backend::Sqlite, opts).await;
            let host = server.base_url.trim_start_matches("http://");
            let (ip, port) = host.rsplit_once(':').expect("HOST:PORT");
            assert_eq!(ip, bound_to, "--listen {listen}: {}", server.base_url);
            // Every interface includes the loopback one.
            let hint = "(every interface: set --public-url to the URL clients use)";
            assert_eq!(server.logs().contains(hint), bound_to == "0.0.0.0");
            let res = server
                .http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .expect("the server answers on loopback");
            assert_eq!(res.status(), 200);
        }
        for (listen, says) in [
            ("localhost", "has no port"),
            ("127.0.0.1:http", "is not a port"),
        ] {
            let opts = ServerOptions {
                extra_args: vec!["--listen".into(), listen.into()],
                ..ServerOptions::default()
            };
            let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
            assert_eq!(status.code(), Some(2), "{output}");
            assert!(output.contains(says), "--listen {listen}: {output}");
            assert!(output.contains(":8080 (every interface)"), "{output}");
        }
    }

    #[tokio::test]
    async fn the_banner_names_the_config_file_and_whether_email_is_on() {
        let server = TestServer::start(Backend::Sqlite).await;
        let banner = server.logs();
        assert!(
            banner.contains(
                "  Config file:    none (defaults and LATCHKEY_* environment variables)\n"
            ),
            "{banner}"
        );
        assert!(
            banner.contains(
                "  Email:          off (no notifications.email.host): notices go to webhooks only\n"
            ),
            "{banner}"
        );

        let yaml = "notifications:\n  email:\n    host: smtp.example.com\n    port: 2525\n    \
                    from: latchkey@example.com\n";
        let opts = ServerOptions {
            config_yaml: Some(yaml.into()),
            ..ServerOptions::default()
        };
        let server = TestServer::start_with(Backend::Sqlite, opts).await;
        let banner = server.logs();
        let file = banner
            .lines()
            .find_map(|l| l.strip_prefix("  Config file:    "))
            .unwrap_or_else(|| panic!("no config file line: {banner}"));
        assert!(
            Path::new(file).is_absolute() && file.ends_with("/latchkey.yml"),
            "{file}"
        );
        assert!(
            banner.contains(
                "  Email:          on, via smtp.example.com:2525 (notifications.email)\n"
            ),
            "{banner}"
        );
    }

    #[tokio::test]
    async fn log_lines_on_a_pipe_carry_no_colour_codes() {
        // The harness sets NO_COLOR=1; an empty NO_COLOR counts as unset, so only
        // "stderr is not a terminal" can keep the codes out.
        let opts = with_env(ServerOptions::default(), "NO_COLOR", "");
        let server = TestServer::start_with(Backend::Sqlite, opts).await;
        server.get("/api/v1/Tenants").send().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let logs = server.logs();
        assert!(logs.contains(" INFO "), "{logs}");
        assert!(
            !logs.contains('\u{1b}'),
            "an escape code on a pipe: {logs:?}"
        );
    }

    #[tokio::test]
    async fn request_lines_give_durations_in_hundredths_of_a_millisecond() {
        let opts = with_env(ServerOptions::default(), "LATCHKEY_LOG_FORMAT", "json");
        let server = TestServer::start_with(Backend::Sqlite, opts).await;
        for _ in 0..5 {
            call(server.get("/api/v1/Tenants"), 200).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let logs = server.logs();
        let answered: Vec<Value> = logs
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("answered 200"))
            })
            .collect();
        assert!(answered.len() >= 5, "{logs}");
        for line in answered {
            let ms = line["duration_ms"].as_f64().expect("a number");
            let text = line["duration_ms"].to_string();
            let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 2, "duration_ms {text} in {line}");
            let message = line["message"].as_str().unwrap();
            let took = message
                .strip_prefix("answered 200 in ")
                .expect("the duration");
            let (number, unit) = took.split_once(' ').expect("NUMBER UNIT");
            assert!(unit == "ms" || unit == "s", "{message}");
            let digits = number.replace('.', "");
            assert!(
                digits.len() <= 3,
                "three figures at most: {message} ({ms} ms)"
            );
        }
    }

    #[tokio::test]
    async fn config_errors_read_without_nested_backticks() {
        let opts = ServerOptions {
            config_yaml: Some("server:\n  listne: 127.0.0.1:8080\n".into()),
            ..ServerOptions::default()
        };
        let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
        assert_eq!(status.code(), Some(2), "{output}");
        assert!(
            output.contains(
                "server.listne: \"listne\" is not a key here; the keys are listen, publicUrl, \
                 trustedProxies, headerReadTimeout, shutdownTimeout (in /"
            ),
            "{output}"
        );
        assert!(!output.contains('`'), "{output}");

        let opts = with_env(
            ServerOptions::default(),
            "LATCHKEY_TOKENS__LASTUSEDINTERVAL",
            "soon",
        );
        let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
        assert_eq!(status.code(), Some(2), "{output}");
        assert!(
            output.contains(
                "tokens.lastUsedInterval: expected a whole number, found string \"soon\" \
                 (from a LATCHKEY_<SECTION>__<KEY> environment variable)"
            ),
            "{output}"
        );
        assert!(!output.contains('`'), "{output}");
    }

    #[tokio::test]
    async fn sqlite_errors_name_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing_dir = dir.path().join("no-such-dir").join("latchkey.db");
        let (status, output) = run_to_exit(Backend::Sqlite, on_sqlite_file(&missing_dir)).await;
        assert_eq!(status.code(), Some(1), "{output}");
        let want = format!(
            "latchkey: cannot open the SQLite database {}: the directory {} does not exist",
            missing_dir.display(),
            dir.path().join("no-such-dir").display()
        );
        assert!(output.contains(&want), "{output}");

        let not_a_database = dir.path().join("notes.db");
        std::fs::write(&not_a_database, "these are not SQLite pages\n".repeat(200)).unwrap();
        let (status, output) = run_to_exit(Backend::Sqlite, on_sqlite_file(&not_a_database)).await;
        assert_eq!(status.code(), Some(1), "{output}");
        let want = format!(
            "latchkey: cannot open the SQLite database {}: ",
            not_a_database.display()
        );
        assert!(output.contains(&want), "{output}");
        assert!(output.contains("file is not a database"), "{output}");
        // A file that was there before is never removed.
        assert!(not_a_database.exists());
    }

    #[tokio::test]
    async fn a_failed_start_leaves_no_new_database_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fresh.db");
        let (_holder, port) = busy_port();
        // metrics.listen is bound after the database was created and migrated, the
        // administrator bootstrapped and (no LATCHKEY_MASTER_KEY) a key file written.
        let opts = ServerOptions {
            config_yaml: Some(format!("metrics:\n  listen: 127.0.0.1:{port}\n")),
            ..with_env(on_sqlite_file(&db), "LATCHKEY_MASTER_KEY", "")
        };
        let (status, output) = run_to_exit(Backend::Sqlite, opts.clone()).await;
        assert_eq!(status.code(), Some(1), "{output}");
        assert!(output.contains("(metrics.listen)"), "{output}");
        assert!(
            output.contains("removed"),
            "the files were made, then removed: {output}"
        );
        assert_eq!(files_in(dir.path()), Vec::<String>::new(), "{output}");

        // A database (and key file) that existed before the failed start stay as they were.
        let key_file = with_env(on_sqlite_file(&db), "LATCHKEY_MASTER_KEY", "");
        let server = TestServer::start_with(Backend::Sqlite, key_file.clone()).await;
        let tenant = server.create_tenant().await;
        assert!(server.terminate().await.success());
        // SQLite's working files (-wal, -shm) of an existing database come and go
        // with its connections; the database, its lock and its key file stay.
        let lasting = |dir: &Path| -> Vec<String> {
            let mut names = files_in(dir);
            names.retain(|n| !n.ends_with("-wal") && !n.ends_with("-shm"));
            names
        };
        let before = lasting(dir.path());
        let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
        assert_eq!(status.code(), Some(1), "{output}");
        assert!(!output.contains("removed"), "{output}");
        assert_eq!(lasting(dir.path()), before, "{output}");
        assert!(before.contains(&"fresh.key".to_owned()), "{before:?}");
        let server = TestServer::start_with(Backend::Sqlite, key_file).await;
        call(server.get(&format!("/api/v1/Tenants/{tenant}")), 200).await;
    }

    /// A database made before (`latchkey migrate`) without a key file: the failed
    /// start made the key file, but the database may already hold keys sealed with
    /// it, so the key file stays.
    #[tokio::test]
    async fn a_failed_start_keeps_a_new_key_file_beside_an_existing_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("made.db");
        let migrated = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("migrate")
            .arg("--database")
            .arg(format!("sqlite://{}", db.display()))
            .env_remove("LATCHKEY_MASTER_KEY")
            .output()
            .unwrap();
        assert!(migrated.status.success(), "{migrated:?}");
        assert!(db.exists() && !dir.path().join("made.key").exists());
        let (_holder, port) = busy_port();
        let opts = ServerOptions {
            config_yaml: Some(format!("metrics:\n  listen: 127.0.0.1:{port}\n")),
            ..with_env(on_sqlite_file(&db), "LATCHKEY_MASTER_KEY", "")
        };
        let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
        assert_eq!(status.code(), Some(1), "{output}");
        assert!(output.contains("(metrics.listen)"), "{output}");
        assert!(dir.path().join("made.key").exists(), "{output}");
        assert!(db.exists(), "{output}");
    }

    #[tokio::test]
    async fn a_busy_port_stops_start_up_before_any_database_file_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fresh.db");
        let (_holder, port) = busy_port();
        let opts = ServerOptions {
            extra_args: vec!["--listen".into(), format!("127.0.0.1:{port}")],
            ..on_sqlite_file(&db)
        };
        let (status, output) = run_to_exit(Backend::Sqlite, opts).await;
        assert_eq!(status.code(), Some(1), "{output}");
        assert!(
            output.contains(&format!("cannot listen on 127.0.0.1:{port}")),
            "{output}"
        );
        assert!(!output.contains("removed"), "nothing was made: {output}");
        assert_eq!(files_in(dir.path()), Vec::<String>::new());
    }
}

mod postgres_start_up {
    use super::*;

    #[tokio::test]
    async fn connection_errors_name_the_server_and_the_cause_never_the_password() {
        let (holder, port) = busy_port();
        drop(holder); // now most likely refused
        let url = format!("postgres://latchkey:pw-5e1f0c@127.0.0.1:{port}/lk");
        let opts = ServerOptions {
            database_url: Some(url),
            ..ServerOptions::default()
        };
        let (status, output) = run_to_exit(Backend::Postgres, opts).await;
        assert_eq!(status.code(), Some(1), "{output}");
        let want = format!(
            "latchkey: cannot connect to the PostgreSQL database \"lk\" on 127.0.0.1:{port} as \
             user \"latchkey\": "
        );
        assert!(output.contains(&want), "{output}");
        assert!(output.contains("refused"), "the cause: {output}");
        assert!(!output.contains("pw-5e1f0c"), "{output}");

        // The cluster answers, but the database does not exist.
        let admin =
            std::env::var("LATCHKEY_TEST_POSTGRES_URL").expect("LATCHKEY_TEST_POSTGRES_URL");
        let (server, _) = admin.rsplit_once('/').expect("a database in the URL");
        let opts = ServerOptions {
            database_url: Some(format!(
                "{server}/lk_absent_{}",
                uuid::Uuid::new_v4().simple()
            )),
            ..ServerOptions::default()
        };
        let (status, output) = run_to_exit(Backend::Postgres, opts).await;
        assert_eq!(status.code(), Some(1), "{output}");
        assert!(
            output.contains("cannot connect to the PostgreSQL database \"lk_absent_"),
            "{output}"
        );
        assert!(output.contains("does not exist"), "{output}");
    }
}

async fn recipients_saved_while_email_is_off_carry_a_warning(backend: Backend) {
    let server = TestServer::start(backend).await;
    let tenant = server.create_tenant().await;
    let path = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    let saved = call(
        server
            .put(&path)
            .json(&json!({"Recipients": ["ops@example.com"]})),
        200,
    )
    .await;
    assert_eq!(saved["Recipients"], json!(["ops@example.com"]));
    let warning = saved["Warning"].as_str().expect("a Warning");
    assert!(
        warning.contains("email is off") && warning.contains("notifications.email.host"),
        "{warning}"
    );
    // Saved all the same; the warning belongs to the answer of the save only.
    assert_eq!(
        call(server.get(&path), 200).await,
        json!({"Recipients": ["ops@example.com"]})
    );
    // The operator's console (the log) says so too; the pipe is read on its own thread.
    let warned = |logs: &str| {
        logs.lines().any(|l| {
            l.contains("WARN")
                && l.contains("recipients saved while email is off")
                && l.contains(&tenant)
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !warned(&server.logs()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(warned(&server.logs()), "{}", server.logs());
    // Sending the answer back is accepted (Warning is ignored in a request).
    call(server.put(&path).json(&saved), 200).await;
    // No recipients, nothing to warn about.
    let cleared = call(server.put(&path).json(&json!({"Recipients": []})), 200).await;
    assert_eq!(cleared, json!({"Recipients": []}));

    let yaml = "notifications:\n  email:\n    host: smtp.example.com\n    from: lk@example.com\n";
    let server = TestServer::start_with(backend, options(backend, Some(yaml))).await;
    let tenant = server.create_tenant().await;
    let path = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    let saved = call(
        server
            .put(&path)
            .json(&json!({"Recipients": ["ops@example.com"]})),
        200,
    )
    .await;
    assert_eq!(saved, json!({"Recipients": ["ops@example.com"]}));
}

async fn a_json_body_at_the_token_endpoint_is_told_to_send_a_form(backend: Backend) {
    let server = TestServer::start_with(backend, options(backend, None)).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &[]).await;
    for endpoint in ["token", "introspect"] {
        let url = server.url(&format!("/identity/{tenant}/connect/{endpoint}"));
        let req = server
            .http
            .post(url)
            .header("Authorization", basic(&cred.id, &cred.secret))
            .header(CONTENT_TYPE, "application/json")
            .body(json!({"grant_type": "client_credentials", "token": "x"}).to_string());
        let (status, _, body) = exchange(req).await;
        assert_eq!(status, 400, "{endpoint}: {body}");
        assert_eq!(body["error"], "invalid_request", "{endpoint}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(
                "the body must be application/x-www-form-urlencoded, not \"application/json\" \
                 (JSON is not accepted here)"
            ),
            "{endpoint}: {description}"
        );
    }
    // The same request as a form gets its token.
    let url = server.url(&format!("/identity/{tenant}/connect/token"));
    let req = server
        .http
        .post(url)
        .header("Authorization", basic(&cred.id, &cred.secret))
        .header(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body("grant_type=client_credentials");
    let (status, _, body) = exchange(req).await;
    assert_eq!(status, 200, "{body}");
}

async fn unknown_routes_say_so_plainly(backend: Backend) {
    let server = TestServer::start(backend).await;
    let body = expect_error(server.get("/api/v1/NoSuchThing"), 404, "NotFound").await;
    assert_eq!(body["Reason"], "no route matches GET /api/v1/NoSuchThing");
    let resolution = body["Resolution"].as_str().unwrap();
    assert!(resolution.contains("/api/docs"), "{resolution}");
    let tenant = server.create_tenant().await;
    let body = expect_error(
        server.get(&format!("/api/v1/Tenants/{tenant}/NoSuchKind/x/Secrets")),
        404,
        "NotFound",
    )
    .await;
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .starts_with("no route matches"),
        "{body}"
    );

    let res = server
        .http
        .get(server.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let content_type = res.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert_eq!(content_type, "text/plain; charset=utf-8");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let text = res.text().await.unwrap();
    assert!(
        text.starts_with("Not found: Latchkey serves nothing at /no/such/page.\n"),
        "{text}"
    );
    assert!(text.contains("/console"), "{text}");
}

both_backends!(
    recipients_saved_while_email_is_off_carry_a_warning,
    a_json_body_at_the_token_endpoint_is_told_to_send_a_form,
    unknown_routes_say_so_plainly,
);
