//! Settings rules, and the Mailer against a real SMTP server (aiosmtpd on loopback).

use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::*;
use crate::notify::message::{NoticeKind, SecretNotice, render};

#[path = "../../../tests/support/smtp.rs"]
mod smtp;

use smtp::SmtpSink;

fn settings(json: serde_json::Value) -> Result<EmailSettings, serde_json::Error> {
    serde_json::from_value(json)
}

fn plain(host: &str, port: u16) -> EmailSettings {
    EmailSettings {
        host: host.into(),
        port: Some(port),
        tls: TlsMode::None,
        username: None,
        password: None,
        from: "Latchkey <latchkey@example.test>".into(),
        timeout_seconds: 10,
    }
}

fn with_login(mut s: EmailSettings, user: &str, password: &str) -> EmailSettings {
    s.username = Some(user.into());
    s.password = Some(SmtpPassword::new(password.into()));
    s
}

fn notice() -> SecretNotice {
    SecretNotice {
        kind: NoticeKind::Expiring {
            lead: Duration::from_secs(7 * 86_400),
        },
        tenant_id: "acme".into(),
        tenant_name: "Acme Corp".into(),
        client_id: "billing-sync".into(),
        client_kind: "HybridClients".into(),
        secret_id: 4,
        description: "CI <deploy> key".into(),
        hint: "lkcs_Zq9w".into(),
        expiration: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        console_url: None,
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn crlf_to_lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

#[test]
fn settings_read_camel_case_with_defaults_by_tls_mode() {
    let s =
        settings(serde_json::json!({"host": "smtp.example.com", "from": "a@example.com"})).unwrap();
    assert_eq!(s.tls, TlsMode::Starttls);
    assert_eq!(s.port(), 587);
    assert_eq!(s.timeout(), Duration::from_secs(30));
    s.validate().unwrap();
    for (tls, port) in [("none", 25), ("starttls", 587), ("tls", 465)] {
        let s = settings(serde_json::json!({"host": "h", "from": "a@example.com", "tls": tls}))
            .unwrap();
        assert_eq!(s.port(), port, "{tls}");
    }
    let s = settings(serde_json::json!({
        "host": "h", "from": "a@example.com", "tls": "tls", "port": 2465,
        "username": "u", "password": "p", "timeoutSeconds": 5
    }))
    .unwrap();
    assert_eq!((s.port(), s.timeout_seconds), (2465, 5));
    assert_eq!(s.username.as_deref(), Some("u"));
}

#[test]
fn unknown_keys_and_tls_modes_are_refused() {
    let e = settings(serde_json::json!({"host": "h", "from": "a@example.com", "pasword": "x"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `pasword`"), "{e}");
    let e = settings(serde_json::json!({"host": "h", "from": "a@example.com", "tls": "ssl"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variant `ssl`"), "{e}");
}

#[test]
fn numbers_are_accepted_as_username_and_password() {
    // figment parses environment values: LATCHKEY_…__PASSWORD=123456 arrives as a number.
    let s = settings(serde_json::json!({
        "host": "h", "from": "a@example.com", "username": 42, "password": 123456
    }))
    .unwrap();
    assert_eq!(s.username.as_deref(), Some("42"));
    assert_eq!(s.password.unwrap().0.as_str(), "123456");
}

#[test]
fn validation_names_the_key() {
    let ok = plain("smtp.example.com", 25);
    ok.validate().unwrap();
    let cases: Vec<(EmailSettings, &str)> = vec![
        (plain("", 25), "host"),
        (plain("smtp://smtp.example.com", 25), "host"),
        (plain("smtp.example.com", 0), "port"),
        (
            EmailSettings {
                from: "not a mailbox".into(),
                ..ok.clone()
            },
            "from",
        ),
        (
            EmailSettings {
                timeout_seconds: 0,
                ..ok.clone()
            },
            "timeoutSeconds",
        ),
        (
            EmailSettings {
                username: Some("u".into()),
                ..ok.clone()
            },
            "password",
        ),
        (
            EmailSettings {
                password: Some(SmtpPassword::new("p".into())),
                ..ok.clone()
            },
            "username",
        ),
        // Credentials in the clear to a remote host.
        (with_login(ok.clone(), "u", "p"), "tls"),
    ];
    for (s, key) in cases {
        let e = s.validate().unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("notifications.email.{key}: ")),
            "{e}"
        );
        assert!(Mailer::new(&s).is_err());
    }
    // Plain SMTP with credentials is fine to a local relay; TLS modes are fine anywhere.
    with_login(plain("127.0.0.1", 25), "u", "p")
        .validate()
        .unwrap();
    with_login(plain("localhost", 25), "u", "p")
        .validate()
        .unwrap();
    let mut remote_tls = with_login(ok, "u", "p");
    remote_tls.tls = TlsMode::Starttls;
    remote_tls.validate().unwrap();
}

#[tokio::test]
async fn the_password_never_shows_in_debug_output() {
    let s = with_login(plain("127.0.0.1", 25), "mailer", "hunter2-secret");
    let mailer = Mailer::new(&s).unwrap();
    for text in [format!("{s:?}"), format!("{mailer:?}")] {
        assert!(!text.contains("hunter2-secret"), "{text}");
    }
    assert!(format!("{s:?}").contains("SmtpPassword(..)"));
}

#[tokio::test]
async fn sends_a_rendered_notice_that_the_smtp_server_receives() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&plain(sink.host(), sink.port())).unwrap();
    let content = render(&notice());
    let to = vec![
        "ops@example.test".to_owned(),
        "Security Team <security@example.test>".to_owned(),
    ];
    mailer.send(&to, &content).await.unwrap();

    let messages = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.mail_from, "latchkey@example.test");
    assert_eq!(m.rcpt_tos, ["ops@example.test", "security@example.test"]);
    assert_eq!(m.from, "Latchkey <latchkey@example.test>");
    assert_eq!(
        m.to,
        "ops@example.test, Security Team <security@example.test>"
    );
    assert_eq!(m.subject, content.subject);
    assert_eq!(
        m.subject,
        "Latchkey: secret 4 of client billing-sync in tenant Acme Corp expires within 7 days"
    );
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
    assert!(m.header("Message-ID").is_some());
    assert!(m.header("Date").is_some());
    assert_eq!(m.auth_login, None);
    let text = crlf_to_lf(m.text.as_deref().expect("a text/plain part"));
    let html = crlf_to_lf(m.html.as_deref().expect("a text/html part"));
    assert_eq!(text.trim_end(), crlf_to_lf(&content.text).trim_end());
    assert_eq!(html.trim_end(), crlf_to_lf(&content.html).trim_end());
    assert!(text.contains("\"CI <deploy> key\""), "{text}");
    assert!(html.contains("CI &#60;deploy&#62; key") || html.contains("CI &lt;deploy&gt; key"));
    assert!(!html.contains("<deploy>"), "{html}");

    // The pooled connection carries a second message.
    mailer.send(&to[..1], &content).await.unwrap();
    let messages = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(messages[1].rcpt_tos, ["ops@example.test"]);
}

#[tokio::test]
async fn authenticates_with_the_configured_credentials() {
    let sink = SmtpSink::start_with_login("mailer", "correct horse").await;
    let good = with_login(plain(sink.host(), sink.port()), "mailer", "correct horse");
    Mailer::new(&good)
        .unwrap()
        .send(&["ops@example.test".into()], &render(&notice()))
        .await
        .unwrap();
    let messages = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(messages[0].auth_login.as_deref(), Some("mailer"));

    let bad = with_login(
        plain(sink.host(), sink.port()),
        "mailer",
        "wrong-battery-staple",
    );
    let e = Mailer::new(&bad)
        .unwrap()
        .send(&["ops@example.test".into()], &render(&notice()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            EmailError::Refused {
                permanent: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_permanent());
    let text = format!("{e} {e:?}");
    assert!(!text.contains("wrong-battery-staple"), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{}", sink.port())),
        "{text}"
    );
    assert_eq!(
        sink.messages().len(),
        1,
        "the refused message was not stored"
    );
}

#[tokio::test]
async fn a_wrong_port_is_an_error_not_a_panic() {
    let port = closed_port();
    let mailer = Mailer::new(&plain("127.0.0.1", port)).unwrap();
    let e = mailer
        .send(&["ops@example.test".into()], &render(&notice()))
        .await
        .unwrap_err();
    assert!(matches!(e, EmailError::Unreachable { .. }), "{e:?}");
    assert!(!e.is_permanent(), "a retry may succeed");
    assert!(
        e.to_string().starts_with(&format!(
            "cannot deliver to the SMTP server 127.0.0.1:{port}: "
        )),
        "{e}"
    );
}

#[tokio::test]
async fn starttls_is_required_not_attempted() {
    // aiosmtpd here offers no STARTTLS: the mailer must refuse to send in the clear.
    let sink = SmtpSink::start().await;
    let mut s = plain(sink.host(), sink.port());
    s.tls = TlsMode::Starttls;
    let e = Mailer::new(&s)
        .unwrap()
        .send(&["ops@example.test".into()], &render(&notice()))
        .await
        .unwrap_err();
    assert!(matches!(e, EmailError::Unreachable { .. }), "{e:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn recipients_are_checked_before_connecting() {
    // Port 1 on loopback: any connection attempt would fail with Unreachable.
    let mailer = Mailer::new(&plain("127.0.0.1", 1)).unwrap();
    let content = render(&notice());
    let e = mailer.send(&[], &content).await.unwrap_err();
    assert!(matches!(e, EmailError::NoRecipients), "{e:?}");
    for bad in ["not-an-address", "a@b\r\nBcc: x@example.test", ""] {
        let e = mailer
            .send(&["ok@example.test".into(), bad.into()], &content)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, EmailError::InvalidRecipient { address, .. } if address == bad),
            "{bad:?}: {e:?}"
        );
        assert!(e.is_permanent());
    }
}

#[tokio::test]
async fn implicit_tls_to_a_plain_server_fails_cleanly() {
    // Builds the rustls client (aws-lc-rs, platform verifier) and attempts a handshake that
    // cannot succeed: an error to report, not a panic over the crypto provider.
    let sink = SmtpSink::start().await;
    let mut s = plain(sink.host(), sink.port());
    s.tls = TlsMode::Tls;
    let e = Mailer::new(&s)
        .unwrap()
        .send(&["ops@example.test".into()], &render(&notice()))
        .await
        .unwrap_err();
    assert!(matches!(e, EmailError::Unreachable { .. }), "{e:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn non_ascii_and_long_subjects_arrive_intact() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&plain(sink.host(), sink.port())).unwrap();
    let mut n = notice();
    n.tenant_name = "Bäckerei Müller & Söhne — Zürich Hauptsitz, Abteilung Zahlungsverkehr".into();
    n.client_id = "paiement-récurrent-ñ-数据同步".into();
    n.description = "clé « production »".into();
    let content = render(&n);
    mailer
        .send(&["ops@example.test".into()], &content)
        .await
        .unwrap();
    let m = &sink.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(m.subject, content.subject);
    let text = crlf_to_lf(m.text.as_deref().unwrap());
    assert_eq!(text.trim_end(), crlf_to_lf(&content.text).trim_end());
    assert!(text.contains("clé « production »"));
}
