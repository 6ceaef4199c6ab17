//! Expiry notices end to end: `secret.expiring` on the cron
//! schedule within the lead time and `secret.expired` soon after the instant, each once
//! per secret and expiration — across more checks, a crash and restart, and two nodes
//! sharing one PostgreSQL database — and the same notices by email to the tenant's
//! recipients, received by a real SMTP server (aiosmtpd, `tests/support/smtp.rs`).
//!
//! Time is driven by short lead times and expirations a few seconds ahead (the config
//! of `webhooks::notify_yaml`: checks every second, a one-day lead time).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde_json::{Value, json};
use tokio::time::sleep;

use crate::harness::*;
use crate::lifecycle::{call, expect_invalid, secrets_path, time};
use crate::receiver::WebhookReceiver;
use crate::smtp::SmtpSink;
use crate::webhooks::{
    CC, PUBLIC_URL, assert_none_of, by_webhook_id, crash_and_restart, deliveries, kinds,
    notify_yaml, start_notifying, subscribe,
};

/// A whole-second time `seconds` from now, and its wire form.
fn in_seconds(seconds: i64) -> (DateTime<Utc>, String) {
    let t = (Utc::now() + chrono::Duration::seconds(seconds)).trunc_subsecs(0);
    (t, t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Adds a secret expiring at `expiration` to client `app`; returns the 201 body.
async fn add_expiring(
    server: &TestServer,
    tenant: &str,
    description: &str,
    expiration: &str,
) -> Value {
    let body = json!({"Description": description, "Expiration": expiration});
    call(
        server.post(&secrets_path(tenant, CC, "app")).json(&body),
        201,
    )
    .await
}

async fn app_client(server: &TestServer, tenant: &str) -> Value {
    let body = json!({"Id": "app", "Name": "App", "SecretDescription": "long-lived"});
    server.create_client(tenant, CC, body).await
}

fn yaml() -> String {
    notify_yaml(&["1s", "1s"], None)
}

/// The documented default lead times (30, 7 and 1 days), checked every second.
fn default_leads_yaml() -> String {
    yaml().replace(
        "leadTimes: [\"1d\"]",
        "leadTimes: [\"30d\", \"7d\", \"1d\"]",
    )
}

/// With lead times of 30, 7 and 1 days, a secret due within several of them is warned
/// about once, for the shortest: not three times.
async fn only_the_shortest_due_lead_time_is_announced(backend: Backend) {
    let yaml = default_leads_yaml();
    assert!(yaml.contains("30d"), "{yaml}");
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.expiring"]).await;
    app_client(&server, &tenant).await; // a year ahead
    let (_, in_20_hours) = in_seconds(20 * 3600);
    add_expiring(&server, &tenant, "tomorrow", &in_20_hours).await;
    let (_, in_5_days) = in_seconds(5 * 86_400);
    add_expiring(&server, &tenant, "next week", &in_5_days).await;
    let (_, in_20_days) = in_seconds(20 * 86_400);
    add_expiring(&server, &tenant, "this month", &in_20_days).await;

    receiver.wait_for(3, Duration::from_secs(15)).await;
    sleep(Duration::from_secs(3)).await;
    let got = receiver.valid_deliveries();
    let mut leads: Vec<(i64, i64)> = got
        .iter()
        .map(|r| {
            let data = r.json()["data"].clone();
            (
                data["secretId"].as_i64().unwrap(),
                data["leadTimeSeconds"].as_i64().unwrap(),
            )
        })
        .collect();
    leads.sort_unstable();
    assert_eq!(leads, [(2, 86_400), (3, 7 * 86_400), (4, 30 * 86_400)]);
    assert_eq!(receiver.requests().len(), 3);
}

async fn an_expiring_secret_is_announced_once_per_expiration(backend: Backend) {
    let yaml = yaml();
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.expiring"]).await;
    app_client(&server, &tenant).await; // a year ahead: outside the lead time
    let (first, wire) = in_seconds(20 * 3600);
    let added = add_expiring(&server, &tenant, "soon", &wire).await;
    assert_eq!(added["Id"], 2);

    let got = receiver.wait_for(1, Duration::from_secs(15)).await;
    let body = got[0].json();
    assert_eq!(body["type"], "secret.expiring");
    let data = &body["data"];
    assert_eq!(
        (
            &data["secretId"],
            &data["clientId"],
            &data["description"],
            &data["leadTimeSeconds"]
        ),
        (&json!(2), &json!("app"), &json!("soon"), &json!(86_400))
    );
    assert_eq!(time(&data["expiration"]), first);
    assert_eq!(data["hint"], added["Hint"]);
    assert_none_of(
        &body.to_string(),
        &[added["Secret"].as_str().unwrap().to_owned()],
    );

    sleep(Duration::from_secs(3)).await; // three more cron occurrences
    assert_eq!(
        receiver.requests().len(),
        1,
        "once per secret and lead time"
    );
    let (server, _killed) = crash_and_restart(server, &yaml).await;
    sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.requests().len(), 1, "still once after a restart");

    // A renewed secret has a new expiration: it is announced again, once.
    let (second, wire) = in_seconds(22 * 3600);
    let renew = json!({"Expiration": wire});
    let path = format!("{}/2/Renew", secrets_path(&tenant, CC, "app"));
    call(server.post(&path).json(&renew), 200).await;
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    let again = got[1].json();
    assert_eq!(
        (&again["type"], &again["data"]["secretId"]),
        (&json!("secret.expiring"), &json!(2))
    );
    assert_eq!(time(&again["data"]["expiration"]), second);
    assert_ne!(again["id"], body["id"], "a new event");
    sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.requests().len(), 2);

    // So does one given a new expiration by an edit.
    let (third, wire) = in_seconds(23 * 3600);
    let path = format!("{}/2", secrets_path(&tenant, CC, "app"));
    call(server.put(&path).json(&json!({"Expiration": wire})), 200).await;
    let got = receiver.wait_for(3, Duration::from_secs(15)).await;
    assert_eq!(time(&got[2].json()["data"]["expiration"]), third);
    sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.requests().len(), 3);
}

async fn an_expired_secret_is_announced_once(backend: Backend) {
    let yaml = yaml();
    let server = start_notifying(backend, &yaml, None).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.expired"]).await;
    app_client(&server, &tenant).await;
    let (at, wire) = in_seconds(3);
    add_expiring(&server, &tenant, "short", &wire).await;

    let got = receiver.wait_for(1, Duration::from_secs(30)).await;
    let arrived = got[0].received_at;
    assert!(
        arrived >= at,
        "not before the expiration ({arrived} < {at})"
    );
    assert!(
        (arrived - at).num_seconds() < 60,
        "within 60 s: {arrived} vs {at}"
    );
    let body = got[0].json();
    assert_eq!(
        (&body["type"], &body["data"]["secretId"]),
        (&json!("secret.expired"), &json!(2))
    );
    assert_eq!(time(&body["data"]["expiration"]), at);
    assert!(body["data"].get("leadTimeSeconds").is_none(), "{body}");

    sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.requests().len(), 1, "once, whatever the checks");

    // A secret revoked before it expires is never announced; one that expires while
    // no server runs is announced after the restart.
    // (Revoked long before it would expire, however slow the machine.)
    let (_, wire) = in_seconds(6);
    add_expiring(&server, &tenant, "revoked", &wire).await;
    call(
        server.delete(&format!("{}/3", secrets_path(&tenant, CC, "app"))),
        204,
    )
    .await;
    let (down_at, wire) = in_seconds(3);
    add_expiring(&server, &tenant, "while down", &wire).await;
    let mut server = server;
    server.kill().await;
    sleep(Duration::from_secs(4)).await; // past the expiration, with no server running
    assert_eq!(receiver.requests().len(), 1);
    let restarted = start_notifying(backend, &yaml, Some(server.database_url.clone())).await;
    let got = receiver.wait_for(2, Duration::from_secs(30)).await;
    let late = got[1].json();
    assert_eq!(
        (&late["type"], &late["data"]["secretId"]),
        (&json!("secret.expired"), &json!(4))
    );
    assert_eq!(time(&late["data"]["expiration"]), down_at);
    let (_again, _killed) = crash_and_restart(restarted, &yaml).await;
    sleep(Duration::from_secs(3)).await;
    let seen = kinds(&receiver.requests());
    let want = [
        ("secret.expired".to_owned(), 2),
        ("secret.expired".to_owned(), 4),
    ];
    assert_eq!(
        seen, want,
        "each once, across two restarts; never the revoked one"
    );
    drop(server);
}

#[tokio::test]
async fn two_nodes_deliver_each_event_once() {
    let smtp = SmtpSink::start().await;
    let yaml = notify_yaml(&["1s", "1s"], Some(smtp.port()));
    let one = start_notifying(Backend::Postgres, &yaml, None).await;
    let opts = ServerOptions {
        config_yaml: Some(yaml.clone()),
        extra_args: vec!["--public-url".to_owned(), PUBLIC_URL.to_owned()],
        database_url: Some(one.database_url.clone()),
        env: vec![("LATCHKEY_BOOTSTRAP_TOKEN".to_owned(), one.token.clone())],
    };
    let mut two = TestServer::start_with(Backend::Postgres, opts).await;
    two.token = one.token.clone(); // the bootstrap token node one was given
    let tenant = one.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&two, &tenant, &receiver, &[]).await;
    let recipients = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    let body = json!({"Recipients": ["ops@example.com"]});
    call(one.put(&recipients).json(&body), 200).await;

    app_client(&one, &tenant).await;
    let (_, soon) = in_seconds(20 * 3600);
    add_expiring(&two, &tenant, "expiring", &soon).await;
    let (_, now) = in_seconds(3);
    add_expiring(&one, &tenant, "expired", &now).await;

    // created ×3, expiring of 2, expired of 3 (and perhaps expiring of 3 first).
    receiver.wait_for(5, Duration::from_secs(30)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !kinds(&receiver.valid_deliveries()).contains(&("secret.expired".to_owned(), 3)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no secret.expired for secret 3"
        );
        sleep(Duration::from_millis(200)).await;
    }
    sleep(Duration::from_secs(4)).await; // both nodes ran several more rounds
    let got = receiver.valid_deliveries();
    let mut want: Vec<(String, i64)> = [
        ("secret.created", 1),
        ("secret.created", 2),
        ("secret.created", 3),
        ("secret.expired", 3),
        ("secret.expiring", 2),
    ]
    .iter()
    .map(|(k, s)| ((*k).to_owned(), *s))
    .collect();
    let mut seen = kinds(&got);
    seen.retain(|k| k != &("secret.expiring".to_owned(), 3));
    want.sort();
    assert_eq!(seen, want, "exactly one delivery of each event");
    assert!(got.len() <= 6);
    let requests = receiver.requests();
    for (id, sent) in by_webhook_id(&requests) {
        assert_eq!(sent.len(), 1, "event {id} was sent {} times", sent.len());
    }
    let (log, total) = deliveries(&one, &tenant, &hook).await;
    assert_eq!(usize::try_from(total).unwrap(), got.len(), "{log:#?}");
    // One email per expiry notice, whichever node sent it.
    let notices = got
        .iter()
        .filter(|r| r.json()["type"] != "secret.created")
        .count();
    let mails = smtp.wait_for(notices, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), notices, "{mails:#?}");
}

async fn expiry_notices_are_mailed_to_the_recipients(backend: Backend) {
    let smtp = SmtpSink::start().await;
    let yaml = notify_yaml(&["1s", "1s"], Some(smtp.port()));
    let server = start_notifying(backend, &yaml, None).await;
    let name = format!("Acme {}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let tenant = call(
        server.post("/api/v1/Tenants").json(&json!({"Name": name})),
        201,
    )
    .await;
    let tenant = tenant["Id"].as_str().unwrap().to_owned();
    let recipients = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    assert_eq!(
        call(server.get(&recipients), 200).await,
        json!({"Recipients": []})
    );
    let bad = json!({"Recipients": ["ops@example.com", "not an address"]});
    expect_invalid(server.put(&recipients).json(&bad), "Recipients").await;
    let body = json!({"Recipients": ["sec@example.com", "ops@example.com"]});
    let set = call(server.put(&recipients).json(&body), 200).await;
    let want = ["ops@example.com", "sec@example.com"];
    assert_eq!(set, json!({"Recipients": want}));
    assert_eq!(call(server.get(&recipients), 200).await, set);

    // A tenant without recipients gets no mail, though its secret expires too.
    let quiet = server.create_tenant().await;
    app_client(&server, &quiet).await;
    let (_, wire) = in_seconds(4);
    let quiet_secret = add_expiring(&server, &quiet, "quiet", &wire).await;

    let first = app_client(&server, &tenant).await;
    let (at, wire) = in_seconds(6);
    let added = add_expiring(&server, &tenant, "deploy key", &wire).await;
    let values: Vec<String> = [&first, &added, &quiet_secret]
        .iter()
        .map(|v| v["Secret"].as_str().unwrap().to_owned())
        .collect();

    let mails = smtp.wait_for(2, Duration::from_secs(30)).await;
    let expiring = &mails[0];
    let expired = &mails[1];
    let expiration = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    for (mail, what) in [(expiring, "expires within 1 day"), (expired, "has expired")] {
        let mut to = mail.rcpt_tos.clone();
        to.sort();
        assert_eq!(to, want, "{mail:?}");
        assert!(mail.subject.contains(what), "{}", mail.subject);
        assert!(mail.subject.contains(&name), "{}", mail.subject);
        let text = mail.text.as_deref().expect("a text part");
        let html = mail.html.as_deref().expect("an HTML part");
        for part in [text, html] {
            for fact in [
                name.as_str(),
                "app",
                "deploy key",
                &tenant,
                &expiration,
                what,
            ] {
                assert!(part.contains(fact), "{fact:?} missing from: {part}");
            }
            assert!(part.contains("Secret") && part.contains(" 2"), "{part}");
            assert!(part.to_lowercase().contains("renew"), "what to do: {part}");
            assert!(part.contains(&format!("{PUBLIC_URL}/console/")), "{part}");
        }
        assert_none_of(&mail.raw, &values);
        assert!(!mail.raw.contains("quiet"), "{}", mail.raw);
    }
    sleep(Duration::from_secs(3)).await;
    assert_eq!(
        smtp.messages().len(),
        2,
        "one message per notice, none for the quiet tenant"
    );
}

both_backends!(
    an_expiring_secret_is_announced_once_per_expiration,
    only_the_shortest_due_lead_time_is_announced,
    an_expired_secret_is_announced_once,
    expiry_notices_are_mailed_to_the_recipients,
);

/// An SMTP server slower than the delivery lease of the webhook timeout (here 2 s ×
/// 3) but within the email timeout (30 s by default): the node sending the email must
/// keep its claim, or the other node sends the same notice again.
#[tokio::test]
async fn a_slow_mail_server_gets_each_notice_once_from_two_nodes() {
    let smtp = SmtpSink::start_slow(Duration::from_secs(9)).await;
    let yaml = notify_yaml(&["1s", "1s"], Some(smtp.port()));
    let one = start_notifying(Backend::Postgres, &yaml, None).await;
    let opts = ServerOptions {
        config_yaml: Some(yaml.clone()),
        extra_args: vec!["--public-url".to_owned(), PUBLIC_URL.to_owned()],
        database_url: Some(one.database_url.clone()),
        env: vec![("LATCHKEY_BOOTSTRAP_TOKEN".to_owned(), one.token.clone())],
    };
    let _two = TestServer::start_with(Backend::Postgres, opts).await;
    let tenant = one.create_tenant().await;
    let recipients = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    let body = json!({"Recipients": ["ops@example.com"]});
    call(one.put(&recipients).json(&body), 200).await;
    app_client(&one, &tenant).await;
    let (_, soon) = in_seconds(20 * 3600);
    add_expiring(&one, &tenant, "slow", &soon).await;

    let mails = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert!(
        mails[0].subject.contains("expires within 1 day"),
        "{}",
        mails[0].subject
    );
    sleep(Duration::from_secs(12)).await; // another 9 s conversation would have ended
    let mails = smtp.messages();
    assert_eq!(
        mails.len(),
        1,
        "the notice was mailed {} times",
        mails.len()
    );
}
